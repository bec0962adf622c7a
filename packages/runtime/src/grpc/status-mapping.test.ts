import { status as GrpcStatus } from '@grpc/grpc-js';
import { OperationalError, UnexpectedError, UserError } from '../errors.js';
import { createSecretRegistry } from '../secrets/secret-registry.js';
import { toGrpcStatus } from './status-mapping.js';

describe('toGrpcStatus redaction', () => {
  const canary = 'sk-canary-grpc-0123456789';
  const redactor = createSecretRegistry({ env: { DEEPSEEK_API_KEY: canary } });

  it('redacts the message of a user error', () => {
    const status = toGrpcStatus(new UserError('BAD_COMMAND', `command failed: echo ${canary}`, { reason: 'invalid', field: 'command' }), redactor);
    expect(status).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT, details: 'command failed: echo [REDACTED:DEEPSEEK_API_KEY]' });
  });

  it('redacts the message of an operational error', () => {
    const status = toGrpcStatus(new OperationalError('PROVIDER_UNAVAILABLE', `401 for key ${canary}`), redactor);
    expect(status).toMatchObject({ code: GrpcStatus.UNAVAILABLE, details: '401 for key [REDACTED:DEEPSEEK_API_KEY]' });
  });

  it('never sends an unexpected error\'s message at all', () => {
    const status = toGrpcStatus(new UnexpectedError('BUG', `oops ${canary}`), redactor);
    expect(status.details).toBe('internal error (BUG)');
  });
});
