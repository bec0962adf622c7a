/**
 * The bus signing key of this test process: one random key, shared by every service process it
 * starts (`ServiceProcess` passes it as `MAESTRO_BUS_SIGNING_KEY` unless a test gives another)
 * and by the test's own bus when it publishes control messages to them, so tests run signed.
 */
import { randomBytes } from 'node:crypto';

/** 32 random bytes, base64url: a valid `MAESTRO_BUS_SIGNING_KEY`, new for each test process. */
export const testBusSigningKey: string = randomBytes(32).toString('base64url');
