import { ConfigError, commonEnv, loadConfig } from '@maestro/runtime';
import { createTestCertificates, type TestCertificates } from '@maestro/testing';
import { compileTransportSecurity, PLAINTEXT, type TransportSecurityConfig } from './transport-security.js';

let pki: TestCertificates;
beforeAll(() => {
  pki = createTestCertificates();
});
afterAll(() => pki.remove());

const none: TransportSecurityConfig = { grpcTlsCa: '', grpcTlsCert: '', grpcTlsKey: '', grpcPlaintext: false };

function tls(name = 'executor'): TransportSecurityConfig {
  const files = pki.issue(name);
  return { grpcTlsCa: pki.caFile, grpcTlsCert: files.cert, grpcTlsKey: files.key, grpcPlaintext: false };
}

function problemsOf(config: TransportSecurityConfig): Record<string, string> {
  try {
    compileTransportSecurity(config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return Object.fromEntries(err.problems.map((p) => [p.variable, p.problem]));
  }
  throw new Error('compiled without a ConfigError');
}

describe('compileTransportSecurity', () => {
  it('compiles the three PEM files into mTLS with the certificate identity', () => {
    const security = compileTransportSecurity(tls('router'));
    expect(security).toMatchObject({ mode: 'mtls', identity: 'router' });
    expect(security.mode === 'mtls' && security.cert.toString()).toContain('BEGIN CERTIFICATE');
  });

  it('reads the variables from commonEnv', () => {
    const files = pki.issue('memory');
    const config = loadConfig(commonEnv, { MAESTRO_GRPC_TLS_CA: pki.caFile, MAESTRO_GRPC_TLS_CERT: files.cert, MAESTRO_GRPC_TLS_KEY: files.key });
    expect(compileTransportSecurity(config)).toMatchObject({ mode: 'mtls', identity: 'memory' });
    expect(compileTransportSecurity(loadConfig(commonEnv, { MAESTRO_GRPC_PLAINTEXT: 'true' }))).toBe(PLAINTEXT);
  });

  it('is plaintext only when MAESTRO_GRPC_PLAINTEXT is set', () => {
    expect(compileTransportSecurity({ ...none, grpcPlaintext: true })).toEqual({ mode: 'plaintext' });
  });

  it('refuses to start without certificates or plaintext, naming the variables', () => {
    const problems = problemsOf(none);
    expect(Object.keys(problems).sort()).toEqual(['MAESTRO_GRPC_TLS_CA', 'MAESTRO_GRPC_TLS_CERT', 'MAESTRO_GRPC_TLS_KEY']);
    expect(problems['MAESTRO_GRPC_TLS_CA']).toContain('MAESTRO_GRPC_PLAINTEXT=true');
  });

  it('refuses certificates together with plaintext', () => {
    expect(problemsOf({ ...tls(), grpcPlaintext: true })).toHaveProperty('MAESTRO_GRPC_PLAINTEXT', expect.stringContaining('cannot be true'));
  });

  it('names the missing file when only some are set', () => {
    const problems = problemsOf({ ...tls(), grpcTlsKey: '' });
    expect(Object.keys(problems)).toEqual(['MAESTRO_GRPC_TLS_KEY']);
  });

  it('names an unreadable file', () => {
    const problems = problemsOf({ ...tls(), grpcTlsCa: `${pki.dir}/missing.pem` });
    expect(problems['MAESTRO_GRPC_TLS_CA']).toMatch(/cannot read .*missing\.pem.*ENOENT/);
  });

  it('names a file that is not PEM', () => {
    const base = tls();
    const problems = problemsOf({ ...base, grpcTlsCert: base.grpcTlsKey, grpcTlsKey: base.grpcTlsCert });
    expect(problems['MAESTRO_GRPC_TLS_CERT']).toContain('is not a PEM certificate');
    expect(problems['MAESTRO_GRPC_TLS_KEY']).toContain('is not a PEM private key');
  });

  it('reads the refresh interval from commonEnv (default 60 s) and refuses one out of bounds, naming the variable', () => {
    const files = pki.issue('memory');
    const base = { MAESTRO_GRPC_TLS_CA: pki.caFile, MAESTRO_GRPC_TLS_CERT: files.cert, MAESTRO_GRPC_TLS_KEY: files.key };
    expect(loadConfig(commonEnv, base).grpcTlsRefreshS).toBe(60);
    expect(loadConfig(commonEnv, { ...base, MAESTRO_GRPC_TLS_REFRESH_S: '5' }).grpcTlsRefreshS).toBe(5);
    expect(() => loadConfig(commonEnv, { ...base, MAESTRO_GRPC_TLS_REFRESH_S: '0' })).toThrow(/MAESTRO_GRPC_TLS_REFRESH_S/);
    expect(problemsOf({ ...tls(), grpcTlsRefreshS: 0 })).toHaveProperty('MAESTRO_GRPC_TLS_REFRESH_S', expect.stringContaining('1..3600'));
  });

  it('refuses a key that does not belong to the certificate', () => {
    const problems = problemsOf({ ...tls('executor'), grpcTlsKey: pki.issue('router').key });
    expect(problems['MAESTRO_GRPC_TLS_KEY']).toContain('is not the private key of the certificate');
  });
});
