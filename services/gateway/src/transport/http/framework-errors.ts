/**
 * The failures fastify and node answer before a route runs — a path segment longer than the
 * router takes, a URL that is not valid percent-encoding, a request line and headers over node's
 * limit — in the gateway's one error shape (`{ error: { code, message } }`). Their own answers had
 * another shape and echoed the URL back; these never quote the request.
 */
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import type { Logger } from '@maestro/runtime';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpErrorBody } from './error-handler.js';

/**
 * The longest path segment (`:id`, `:name`) the router matches; longer ones get 414. Far above
 * every parameter's schema limit (ids are at most 128 characters), so an over-long id reaches its
 * route's schema and gets a 400 naming the parameter; only absurd segments stop at the router.
 */
export const maxPathParamChars = 4096;

/** Stable codes of the errors answered here. */
export const FrameworkErrorCodes = {
  uriTooLong: 'URI_TOO_LONG',
  badUrl: 'INVALID_ARGUMENT',
  headersTooLarge: 'REQUEST_HEADERS_TOO_LARGE',
  timeout: 'REQUEST_TIMEOUT',
  malformed: 'MALFORMED_REQUEST',
} as const;

function errorBody(code: string, message: string): HttpErrorBody {
  return { error: { code, message } };
}

/** What to answer for a fastify routing error (`frameworkErrors`), by its code. */
function describeFrameworkError(err: FastifyError): { status: number; body: HttpErrorBody } {
  switch (err.code) {
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return {
        status: 414,
        body: errorBody(FrameworkErrorCodes.uriTooLong, `a path segment is longer than ${maxPathParamChars} characters; ids are at most 128`),
      };
    case 'FST_ERR_BAD_URL':
      return { status: 400, body: errorBody(FrameworkErrorCodes.badUrl, 'the URL path is not valid percent-encoding') };
    default:
      return { status: 400, body: errorBody(FrameworkErrorCodes.malformed, 'the request could not be routed') };
  }
}

/** The `frameworkErrors` option of the gateway's fastify: routing errors in the standard shape. */
export function createFrameworkErrorHandler(logger: Logger): (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => void {
  return (err, request, reply) => {
    const { status, body } = describeFrameworkError(err);
    logger.info('request refused before routing', { method: request.method, status, code: body.error.code, fastifyCode: err.code });
    void reply.code(status).type('application/json; charset=utf-8').send(body);
  };
}

/** Status and body for a connection-level client error (node's `clientError`), or none to send. */
function describeClientError(err: NodeJS.ErrnoException): { status: number; body: HttpErrorBody } | undefined {
  if (err.code === 'ECONNRESET') return undefined;
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    return {
      status: 431,
      body: errorBody(FrameworkErrorCodes.headersTooLarge, 'the URL and headers together exceed 16 KiB; shorten the URL or the query'),
    };
  }
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { status: 408, body: errorBody(FrameworkErrorCodes.timeout, 'the request was not received in time') };
  }
  return { status: 400, body: errorBody(FrameworkErrorCodes.malformed, 'the request is not valid HTTP') };
}

/**
 * The `clientErrorHandler` option of the gateway's fastify: what node could not parse (a request
 * line and headers over 16 KiB, garbage) answered in the standard shape, then the socket closed.
 */
export function createClientErrorHandler(logger: Logger): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
    const answer = socket.destroyed ? undefined : describeClientError(err);
    if (answer !== undefined) {
      logger.info('request refused by the HTTP parser', { status: answer.status, code: answer.body.error.code, parserCode: err.code });
      if (socket.writable) {
        const json = JSON.stringify(answer.body);
        socket.write(
          `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
            `Content-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
        );
      }
    }
    socket.destroy(err);
  };
}
