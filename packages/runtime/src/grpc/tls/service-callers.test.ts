import { checkCaller, ServiceCallers } from './service-callers.js';
import { ServiceIdentities } from './service-identity.js';

describe('checkCaller', () => {
  it('allows a service-wide caller on every method', () => {
    expect(checkCaller('/maestro.v1.LockService/Acquire', 'executor')).toEqual({ allowed: true });
    expect(checkCaller('/maestro.v1.LockService/Inspect', 'executor')).toEqual({ allowed: true });
  });

  it('allows a per-method caller only on that method, naming caller and method otherwise', () => {
    expect(checkCaller('/maestro.v1.LockService/Inspect', 'gateway')).toEqual({ allowed: true });
    const denied = checkCaller('/maestro.v1.LockService/Release', 'gateway');
    expect(denied.allowed).toBe(false);
    expect(!denied.allowed && denied.reason).toMatch(/"gateway" may not call maestro\.v1\.LockService\/Release/);
  });

  it('refuses callers without an identity, unknown services and unknown identities', () => {
    expect(checkCaller('/maestro.v1.RouterService/Complete', undefined).allowed).toBe(false);
    expect(checkCaller('/maestro.v1.NewService/Do', 'admin').allowed).toBe(false);
    expect(checkCaller('/maestro.v1.RouterService/Complete', 'stranger').allowed).toBe(false);
  });

  it('names only known identities', () => {
    const known = new Set<string>(Object.values(ServiceIdentities));
    for (const methods of Object.values(ServiceCallers)) for (const callers of Object.values(methods)) for (const c of callers) expect(known).toContain(c);
  });
});
