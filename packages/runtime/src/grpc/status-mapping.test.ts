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

describe('toGrpcStatus codes', () => {
  it('maps each kind of user error to its status, a cancelled call to CANCELLED', () => {
    const statusOf = (reason: UserError['reason']) => toGrpcStatus(new UserError('X', 'x', { reason })).code;
    expect(['invalid', 'not_found', 'precondition', 'already_exists', 'cancelled'].map((r) => statusOf(r as UserError['reason']))).toEqual([
      GrpcStatus.INVALID_ARGUMENT,
      GrpcStatus.NOT_FOUND,
      GrpcStatus.FAILED_PRECONDITION,
      GrpcStatus.ALREADY_EXISTS,
      GrpcStatus.CANCELLED,
    ]);
  });
});
