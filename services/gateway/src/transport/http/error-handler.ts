/**
 * The gateway's one translation from errors to HTTP responses. Every failure leaves as
 * `{ error: { code, message, field? } }`: maestro errors by kind (and a user error's reason),
 * schema validation failures as 400 naming the field, fastify's own client errors (bad JSON,
 * wrong content type, body too large) with their status. Nothing else builds error responses,
 * and no response ever carries a stack trace or an unexpected error's message.
 */
import { OperationalError, UserError, processSecrets, toMaestroError, type Logger, type Redactor } from '@maestro/runtime';
import type { FastifyError, FastifyInstance } from 'fastify';
import { AuthError } from '../../auth/auth-errors.js';

/** The JSON body of every error response. */
export interface HttpErrorBody {
  error: {
    /** Stable, machine-readable (`INVALID_ARGUMENT`, `NOT_FOUND`, `TASK_NOT_FOUND` …). */
    code: string;
    /** Written for a person: what was wrong and, where possible, what to do. */
    message: string;
    /** The request field at fault (camelCase, as in the request body), for bad input. */
    field?: string;
  };
}

/** An error response and how loudly to log it. */
export interface HttpError {
  status: number;
  body: HttpErrorBody;
  /** 4xx are the caller's business (info); 503 is transient (warn); other 5xx are bugs (error). */
  level: 'info' | 'warn' | 'error';
}

/** The subset of an Ajv error the gateway reads (fastify puts them in `error.validation`). */
interface SchemaViolation {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
  schema?: unknown;
}

/** Readable explanations for the patterns used in route schemas, keyed by the pattern text. */
const patternExplanations = new Map<string, string>();

/**
 * Registers the human explanation of a schema `pattern`, so a violation reads
 * "goal: must not be blank" rather than quoting a regular expression.
 */
export function explainPattern(pattern: string, explanation: string): string {
  patternExplanations.set(pattern, explanation);
  return pattern;
}

const userReasonToStatus: Record<UserError['reason'], number> = {
  invalid: 400,
  not_found: 404,
  precondition: 409,
  already_exists: 409,
  // The client closed the request (nginx's convention): nobody is left to read the answer.
  cancelled: 499,
};

/** `repo_path` → `repoPath`: upstream services name proto fields, callers know body fields. */
export function toBodyFieldName(field: string): string {
  return field.replace(/_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

function translateField(message: string, field: string | undefined): { message: string; field: string | undefined } {
  if (!field) return { message, field };
  const bodyField = toBodyFieldName(field);
  // Upstream messages start with their field name ("repo_path: is not a git repository");
  // rename that prefix too, so message and field agree.
  const renamed = message.startsWith(field) ? `${bodyField}${message.slice(field.length)}` : message;
  return { message: renamed, field: bodyField };
}

function describeViolation(violation: SchemaViolation, where: string): { field: string | undefined; message: string } {
  const path = violation.instancePath
    .split('/')
    .filter((part) => part.length > 0)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  const { keyword, params } = violation;
  if (keyword === 'required' && typeof params.missingProperty === 'string') path.push(params.missingProperty);
  if (keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    path.push(params.additionalProperty);
  }
  const field = path.length > 0 ? path.join('.') : undefined;
  let problem: string;
  switch (keyword) {
    case 'required':
      problem = 'is required';
      break;
    case 'additionalProperties':
      problem = `is not a known ${where === 'body' ? 'field' : 'parameter'}; remove it`;
      break;
    case 'minLength':
      problem = params.limit === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters`;
      break;
    case 'minItems':
      // An empty list is never "use the default": the caller leaves the field out for that.
      problem = params.limit === 1 ? 'must not be empty; leave it out to use the default' : `must have at least ${String(params.limit)} items`;
      break;
    case 'pattern':
      problem = patternExplanations.get(String(params.pattern)) ?? `must match ${String(params.pattern)}`;
      break;
    case 'enum':
      problem = `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
      break;
    default:
      problem = violation.message ?? 'is invalid';
  }
  if (field) return { field, message: `${field}: ${problem}` };
  // The whole part is wrong, e.g. a body that is not a JSON object.
  if (where === 'body' && keyword === 'type') {
    return { field: undefined, message: 'request body must be a JSON object; send it with content-type application/json' };
  }
  return { field: undefined, message: `${where === 'body' ? 'request body' : where} ${problem}` };
}

function isFastifyError(err: unknown): err is FastifyError {
  return err instanceof Error && typeof (err as Partial<FastifyError>).code === 'string' && (err as Partial<FastifyError>).code!.startsWith('FST_');
}

/**
 * Messages for fastify's client errors that say what to do, by fastify code; the others keep
 * fastify's message. None of them quotes the request.
 */
const clientErrorMessages: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'request body must be JSON; send it with content-type application/json',
};

const clientErrorCodes: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/**
 * An upstream UserError with its field renamed to what this route's caller sent, for fields
 * whose HTTP name is not the camelCase of the proto's: the engine's `run_id` is the path's
 * `id`, ListTasks' `goal_contains` is the query's `q`. The message's leading field name is
 * renamed too, so message and field agree. Anything else is returned as it is.
 */
export function renameUpstreamField(err: unknown, names: Readonly<Record<string, string>>): unknown {
  const error = toMaestroError(err);
  if (!(error instanceof UserError) || error.field === undefined) return err;
  const renamed = names[error.field];
  if (renamed === undefined) return err;
  const message = error.message.startsWith(`${error.field}:`) ? `${renamed}${error.message.slice(error.field.length)}` : error.message;
  return new UserError(error.code, message, { reason: error.reason, field: renamed, ...(error.details ? { details: error.details } : {}), cause: err });
}

/** Awaits an upstream call, renaming its error's field as {@link renameUpstreamField} does. */
export async function withFieldNames<T>(call: Promise<T>, names: Readonly<Record<string, string>>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw renameUpstreamField(err, names);
  }
}

/** Translates anything a route threw into the response the caller gets. */
export function toHttpError(err: unknown): HttpError {
  const validation = (err as { validation?: unknown }).validation;
  if (Array.isArray(validation) && validation.length > 0) {
    const where = String((err as { validationContext?: unknown }).validationContext ?? 'body');
    const { field, message } = describeViolation(validation[0] as SchemaViolation, where);
    return {
      status: 400,
      level: 'info',
      body: { error: { code: 'INVALID_ARGUMENT', message, ...(field ? { field } : {}) } },
    };
  }
  if (isFastifyError(err) && typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return {
      status: err.statusCode,
      level: 'info',
      body: {
        error: { code: clientErrorCodes[err.statusCode] ?? `HTTP_${err.statusCode}`, message: clientErrorMessages[err.code] ?? err.message },
      },
    };
  }
  const error = toMaestroError(err);
  if (error instanceof AuthError) {
    return { status: error.status, level: 'info', body: { error: { code: error.code, message: error.message } } };
  }
  if (error instanceof UserError) {
    const { message, field } = translateField(error.message, error.field);
    return {
      status: userReasonToStatus[error.reason],
      level: 'info',
      body: { error: { code: error.code, message, ...(field ? { field } : {}) } },
    };
  }
  if (error instanceof OperationalError) {
    return {
      status: 503,
      level: 'warn',
      body: { error: { code: error.code, message: `${error.message}; try again shortly` } },
    };
  }
  return {
    status: 500,
    level: 'error',
    body: { error: { code: error.code, message: `internal error (${error.code}); see the gateway log` } },
  };
}

/** The longest part of a request path a not-found message quotes. */
const quotedPathMaxChars = 200;

/** The path of `url` (no query) for a message, cut short so a huge URL is not echoed back. */
function quotedPath(url: string): string {
  const path = url.split('?')[0] ?? '';
  return path.length > quotedPathMaxChars ? `${path.slice(0, quotedPathMaxChars)}… (${path.length} characters)` : path;
}

/**
 * Installs the error and not-found handlers on `app`; 5xx are logged with their cause. Every
 * message a caller gets is redacted by `redactor` (@default processSecrets()): an upstream's
 * message may quote what a tool or a provider said.
 */
export function registerErrorHandling(app: FastifyInstance, logger: Logger, redactor: Redactor = processSecrets()): void {
  app.setErrorHandler((err, request, reply) => {
    const httpError = toHttpError(err);
    httpError.body.error.message = redactor.redact(httpError.body.error.message);
    const fields = {
      method: request.method,
      url: request.url,
      status: httpError.status,
      code: httpError.body.error.code,
      err: err instanceof Error ? err.message : String(err),
      // Refusals name the key (never the secret or token) so an operator can find who it was.
      ...(err instanceof AuthError && err.details?.['keyId'] !== undefined ? { keyId: err.details['keyId'] } : {}),
      ...(httpError.status >= 500 && err instanceof Error
        ? { stack: err.stack, cause: err.cause instanceof Error ? err.cause.message : err.cause }
        : {}),
    };
    logger[httpError.level]('request failed', fields);
    if (httpError.status === 401) void reply.header('www-authenticate', 'Bearer');
    void reply.code(httpError.status).type('application/json; charset=utf-8').send(httpError.body);
  });
  app.setNotFoundHandler((request, reply) => {
    const body: HttpErrorBody = {
      error: { code: 'ROUTE_NOT_FOUND', message: `no route ${request.method} ${quotedPath(request.url)}; see the gateway README for the API` },
    };
    void reply.code(404).send(body);
  });
}
