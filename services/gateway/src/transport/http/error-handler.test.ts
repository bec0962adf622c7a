import { OperationalError, UnexpectedError, UserError, invalidField, notFound } from '@maestro/runtime';
import { toBodyFieldName, toHttpError } from './error-handler.js';

describe('toHttpError', () => {
  it('maps an upstream bad-input error to 400 and renames its proto field to the body field', () => {
    const error = invalidField('repo_path', 'no such directory: /nope');
    expect(toHttpError(error)).toEqual({
      status: 400,
      level: 'info',
      body: { error: { code: 'INVALID_ARGUMENT', message: 'repoPath: no such directory: /nope', field: 'repoPath' } },
    });
  });

  it('maps not found to 404 and failed preconditions to 409', () => {
    expect(toHttpError(notFound('task', 't1', 'TASK_NOT_FOUND')).status).toBe(404);
    expect(toHttpError(notFound('task', 't1', 'TASK_NOT_FOUND')).body.error.code).toBe('TASK_NOT_FOUND');
    expect(toHttpError(new UserError('TASK_ENDED', 'task ended', { reason: 'precondition' })).status).toBe(409);
  });

  it('maps transient upstream failures to 503', () => {
    const result = toHttpError(new OperationalError('UPSTREAM_UNAVAILABLE', 'getTask: connection refused'));
    expect(result.status).toBe(503);
    expect(result.level).toBe('warn');
  });

  it('never shows the message or stack of an unexpected error', () => {
    const secret = new Error('password=hunter2 at /srv/app.js:12');
    for (const err of [secret, new UnexpectedError('BROKEN', 'invariant broke: hunter2', { cause: secret })]) {
      const result = toHttpError(err);
      expect(result.status).toBe(500);
      expect(result.level).toBe('error');
      expect(JSON.stringify(result.body)).not.toContain('hunter2');
      expect(JSON.stringify(result.body)).not.toContain('app.js');
    }
  });

  it('names the field of a schema violation, including missing and unknown properties', () => {
    const violation = (keyword: string, instancePath: string, params: Record<string, unknown>, message?: string) =>
      Object.assign(new Error('body/goal must be string'), {
        validation: [{ keyword, instancePath, params, message }],
        validationContext: 'body',
      });
    expect(toHttpError(violation('required', '', { missingProperty: 'goal' })).body.error).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'goal: is required',
      field: 'goal',
    });
    expect(toHttpError(violation('additionalProperties', '', { additionalProperty: 'colour' })).body.error.field).toBe('colour');
    expect(toHttpError(violation('type', '/testCommand/0', { type: 'string' }, 'must be string')).body.error).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'testCommand.0: must be string',
      field: 'testCommand.0',
    });
    expect(toHttpError(violation('minLength', '/goal', { limit: 1 })).body.error.message).toBe('goal: must not be empty');
    expect(toHttpError(violation('minItems', '/testCommand', { limit: 1 })).body.error).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'testCommand: must not be empty; leave it out to use the default',
      field: 'testCommand',
    });
    expect(toHttpError(violation('type', '', { type: 'object' }, 'must be object')).body.error).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'request body must be a JSON object; send it with content-type application/json',
    });
  });
});

describe('toBodyFieldName', () => {
  it('turns proto snake_case into the camelCase of request bodies', () => {
    expect(toBodyFieldName('repo_path')).toBe('repoPath');
    expect(toBodyFieldName('test_command')).toBe('testCommand');
    expect(toBodyFieldName('goal')).toBe('goal');
    expect(toBodyFieldName('repoPath')).toBe('repoPath');
  });
});
