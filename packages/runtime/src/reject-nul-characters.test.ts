import { UserError } from './errors.js';
import { toGrpcStatus } from './grpc/status-mapping.js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { protoFieldName, rejectNulCharacters } from './reject-nul-characters.js';

function fieldOf(input: unknown): string | undefined {
  try {
    rejectNulCharacters(input);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as UserError).field;
  }
  return undefined;
}

describe('rejectNulCharacters', () => {
  it('names the first field holding U+0000, array items by index', () => {
    expect(fieldOf({ goal: 'fix\u0000it', project: 'p' })).toBe('goal');
    expect(fieldOf({ goal: 'ok', testCommand: ['npm', 'te\u0000st'] })).toBe('testCommand[1]');
    expect(fieldOf({ outer: { inner: [{ name: '\u0000' }] } })).toBe('outer.inner[0].name');
    expect(fieldOf({ a: '\u0000', b: '\u0000' })).toBe('a');
  });

  it('names proto fields when asked to (as gRPC callers know them)', () => {
    let field: string | undefined;
    try {
      rejectNulCharacters({ task: { testCommand: ['npm', '\u0000'] } }, '', protoFieldName);
    } catch (err) {
      field = (err as UserError).field;
    }
    expect(field).toBe('task.test_command[1]');
    expect(protoFieldName('idempotencyKey')).toBe('idempotency_key');
    expect(protoFieldName('goal')).toBe('goal');
  });

  it('says what is wrong in the message and maps to INVALID_ARGUMENT with the field', () => {
    let thrown: unknown;
    try {
      rejectNulCharacters({ idempotencyKey: 'k\u0000' });
    } catch (err) {
      thrown = err;
    }
    expect((thrown as Error).message).toBe('idempotencyKey: must not contain NUL (\\u0000) characters');
    const status = toGrpcStatus(thrown);
    expect(status.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(status.metadata?.get('maestro-error-field')).toEqual(['idempotencyKey']);
  });

  it('accepts text without NUL, other control characters, bytes and dates', () => {
    expect(fieldOf({ goal: 'tab\there\nnewline \u0001', n: 3, flag: true, nothing: null, absent: undefined })).toBeUndefined();
    expect(fieldOf({ bytes: new Uint8Array([0, 0]), at: new Date(0) })).toBeUndefined();
    expect(fieldOf(undefined)).toBeUndefined();
    expect(fieldOf(null)).toBeUndefined();
  });

  it('walks objects without Object.prototype, as query-string parsers make them', () => {
    const query = Object.create(Object.create(null) as object) as Record<string, unknown>;
    query['query'] = 'a\u0000';
    expect(fieldOf(query)).toBe('query');
  });

  it('names a bare string by the path given', () => {
    expect(() => rejectNulCharacters('x\u0000', 'reason')).toThrow(/^reason: /);
  });

  it('terminates on cyclic input', () => {
    const cyclic: Record<string, unknown> = { name: 'ok' };
    cyclic['self'] = cyclic;
    expect(fieldOf(cyclic)).toBeUndefined();
  });
});
