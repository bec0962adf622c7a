import Fastify from 'fastify';
import { OperationalError, UserError, createSecretRegistry, createSilentLogger } from '@maestro/runtime';
import { registerErrorHandling } from './error-handler.js';

describe('registerErrorHandling redaction', () => {
  const canary = 'sk-canary-gateway-0123456789';
  const redactor = createSecretRegistry({ env: { GEMINI_API_KEY: canary } });

  it.each([
    ['a user error', new UserError('BAD_REPO', `repository says ${canary}`, { reason: 'invalid', field: 'repoPath' }), 400],
    ['an upstream failure', new OperationalError('UPSTREAM_UNAVAILABLE', `provider refused key ${canary}`), 503],
  ])('takes secrets out of the message of %s', async (_case, thrown, status) => {
    const app = Fastify();
    registerErrorHandling(app, createSilentLogger(), redactor);
    app.get('/fail', () => {
      throw thrown;
    });
    const response = await app.inject({ method: 'GET', url: '/fail' });
    await app.close();
    expect(response.statusCode).toBe(status);
    expect(response.body).not.toContain(canary);
    expect((response.json() as { error: { message: string } }).error.message).toContain('[REDACTED:GEMINI_API_KEY]');
  });
});
