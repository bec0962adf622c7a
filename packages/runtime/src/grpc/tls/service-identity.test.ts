import { identityOf } from './service-identity.js';

describe('identityOf', () => {
  it('prefers the spiffe://maestro URI SAN over the CN', () => {
    expect(identityOf({ subject: { CN: 'something' }, subjectaltname: 'DNS:localhost, URI:spiffe://maestro/executor, IP Address:127.0.0.1' })).toBe('executor');
  });

  it('ignores a URI of another trust domain and falls back to the CN', () => {
    expect(identityOf({ subject: { CN: 'router' }, subjectaltname: 'URI:spiffe://elsewhere/executor' })).toBe('router');
  });

  it('is undefined without a certificate or any name', () => {
    expect(identityOf(undefined)).toBeUndefined();
    expect(identityOf({ subject: {}, subjectaltname: 'DNS:localhost' })).toBeUndefined();
  });
});
