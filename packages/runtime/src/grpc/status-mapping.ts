/**
 * The one translation between maestro errors and gRPC statuses, in both directions. Servers
 * call `toGrpcStatus` on whatever a handler threw; clients call `fromGrpcError` so a
 * caller several hops away still gets a `UserError` with the offending field.
 */
import { Metadata, status as GrpcStatus, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import {
  OperationalError,
  UnexpectedError,
  UserError,
  toMaestroError,
  type MaestroError,
} from '../errors.js';
import { processSecrets } from '../secrets/process-secrets.js';
import type { Redactor } from '../secrets/secret-registry.js';

/** Metadata keys carrying the maestro error code and field across gRPC. */
export const ErrorMetadataKeys = { code: 'maestro-error-code', field: 'maestro-error-field' } as const;

const userReasonToStatus: Record<UserError['reason'], GrpcStatus> = {
  invalid: GrpcStatus.INVALID_ARGUMENT,
  not_found: GrpcStatus.NOT_FOUND,
  precondition: GrpcStatus.FAILED_PRECONDITION,
  already_exists: GrpcStatus.ALREADY_EXISTS,
  // What a server records for a call its caller cancelled (the caller's own side already says CANCELLED).
  cancelled: GrpcStatus.CANCELLED,
};

/**
 * The status a caller sees for an error. Unexpected errors never leak their message or
 * stack: the caller gets "internal error" and the log has the rest. Messages that do go out are
 * redacted by `redactor` (@default processSecrets()): a user error may quote what a tool or an
 * upstream said.
 */
export function toGrpcStatus(err: unknown, redactor: Redactor = processSecrets()): Partial<StatusObject> & { code: GrpcStatus; details: string } {
  const error = toMaestroError(err);
  const metadata = new Metadata();
  metadata.set(ErrorMetadataKeys.code, error.code);
  if (error.field) metadata.set(ErrorMetadataKeys.field, error.field);
  if (error instanceof UserError) return { code: userReasonToStatus[error.reason], details: redactor.redact(error.message), metadata };
  if (error instanceof OperationalError) return { code: GrpcStatus.UNAVAILABLE, details: redactor.redact(error.message), metadata };
  return { code: GrpcStatus.INTERNAL, details: `internal error (${error.code})`, metadata };
}

function metadataString(metadata: Metadata | undefined, key: string): string | undefined {
  const value = metadata?.get(key)[0];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** Turns a failed gRPC call back into the error hierarchy, keeping code and field. */
export function fromGrpcError(err: unknown, method: string): MaestroError {
  const service = err as Partial<ServiceError>;
  if (typeof service.code !== 'number') return toMaestroError(err);
  const code = metadataString(service.metadata, ErrorMetadataKeys.code);
  const field = metadataString(service.metadata, ErrorMetadataKeys.field);
  const message = service.details || service.message || 'no details';
  switch (service.code) {
    case GrpcStatus.INVALID_ARGUMENT:
      return new UserError(code ?? 'INVALID_ARGUMENT', message, { reason: 'invalid', field, cause: err });
    case GrpcStatus.NOT_FOUND:
      return new UserError(code ?? 'NOT_FOUND', message, { reason: 'not_found', field, cause: err });
    case GrpcStatus.FAILED_PRECONDITION:
      return new UserError(code ?? 'FAILED_PRECONDITION', message, { reason: 'precondition', field, cause: err });
    case GrpcStatus.ALREADY_EXISTS:
      return new UserError(code ?? 'ALREADY_EXISTS', message, { reason: 'already_exists', field, cause: err });
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.DEADLINE_EXCEEDED:
    case GrpcStatus.RESOURCE_EXHAUSTED:
    case GrpcStatus.ABORTED:
      return new OperationalError(code ?? 'UPSTREAM_UNAVAILABLE', `${method}: ${message}`, { cause: err });
    default:
      return new UnexpectedError(code ?? 'UPSTREAM_ERROR', `${method}: ${message}`, { cause: err });
  }
}
