import { PreflightDefaults, PreflightMaxima, resolvePreflightSettings } from './preflight-settings.js';

describe('resolvePreflightSettings', () => {
  it('uses the defaults when neither the run context nor the repository says anything', () => {
    expect(resolvePreflightSettings(undefined, undefined)).toEqual({
      ports: [],
      allowDetachedHead: false,
      baseline: true,
      minFreeDiskBytes: PreflightDefaults.minFreeDiskBytes,
      baselineTimeoutMs: PreflightDefaults.baselineTimeoutMs,
      lockWaitMs: PreflightDefaults.lockWaitMs,
      staleLockMinAgeMs: PreflightDefaults.staleLockMinAgeMs,
      stopGraceMs: PreflightDefaults.stopGraceMs,
    });
  });

  it('joins the ports of both sources, lets either allow a detached HEAD or turn the baseline off, and prefers the repository for numbers', () => {
    const settings = resolvePreflightSettings(
      { ports: [3000, 8080], minFreeDiskBytes: 10, baseline: false },
      JSON.stringify({ ports: [8080, 5173], allowDetachedHead: true, minFreeDiskBytes: 20 }),
    );
    expect(settings).toMatchObject({ ports: [3000, 5173, 8080], allowDetachedHead: true, baseline: false, minFreeDiskBytes: 20 });
  });

  it('lets the repository raise the safety floors but never lower them below the workflow\'s or the default', () => {
    const lowered = resolvePreflightSettings(undefined, JSON.stringify({ staleLockMinAgeMs: 0, stopGraceMs: 0 }));
    expect(lowered).toMatchObject({ staleLockMinAgeMs: PreflightDefaults.staleLockMinAgeMs, stopGraceMs: PreflightDefaults.stopGraceMs });
    const workflowSet = resolvePreflightSettings({ staleLockMinAgeMs: 120_000, stopGraceMs: 1_000 }, JSON.stringify({ staleLockMinAgeMs: 60_000, stopGraceMs: 10_000 }));
    expect(workflowSet).toMatchObject({ staleLockMinAgeMs: 120_000, stopGraceMs: 10_000 });
    // The workflow (the operator's definition) may lower them; the repository still cannot go below it.
    expect(resolvePreflightSettings({ stopGraceMs: 500 }, undefined).stopGraceMs).toBe(500);
  });

  it('refuses values over the maxima, naming the source and the field', () => {
    expect(() => resolvePreflightSettings(undefined, JSON.stringify({ baselineTimeoutMs: PreflightMaxima.baselineTimeoutMs + 1 }))).toThrow(
      `.maestro/preflight.json.baselineTimeoutMs: must be at most ${PreflightMaxima.baselineTimeoutMs}, got ${PreflightMaxima.baselineTimeoutMs + 1}`,
    );
    expect(() => resolvePreflightSettings({ lockWaitMs: 86_400_000 }, undefined)).toThrow('context.preflight.lockWaitMs: must be at most 300000, got 86400000');
    expect(() => resolvePreflightSettings(undefined, JSON.stringify({ staleLockMinAgeMs: 10 ** 12 }))).toThrow('.maestro/preflight.json.staleLockMinAgeMs: must be at most');
    expect(() => resolvePreflightSettings(undefined, JSON.stringify({ ports: Array.from({ length: 65 }, (_, i) => 1000 + i) }))).toThrow(
      '.maestro/preflight.json.ports: must list at most 64 ports, got 65',
    );
    expect(resolvePreflightSettings(undefined, JSON.stringify({ stopGraceMs: PreflightMaxima.stopGraceMs })).stopGraceMs).toBe(PreflightMaxima.stopGraceMs);
  });

  it('names the source and the field of every bad value', () => {
    expect(() => resolvePreflightSettings({ ports: [0] }, undefined)).toThrow('context.preflight.ports[0]: must be a port number from 1 to 65535, got 0');
    expect(() => resolvePreflightSettings({ ports: 3000 }, undefined)).toThrow('context.preflight.ports: must be an array of port numbers');
    expect(() => resolvePreflightSettings(undefined, '{"allowDetachedHead":"yes"}')).toThrow('.maestro/preflight.json.allowDetachedHead: must be true or false, got "yes"');
    expect(() => resolvePreflightSettings(undefined, '{"minFreeDiskBytes":-1}')).toThrow('.maestro/preflight.json.minFreeDiskBytes: must be a whole number of at least 0, got -1');
    expect(() => resolvePreflightSettings(undefined, '{"port":3000}')).toThrow('.maestro/preflight.json.port: is not a preflight setting');
    expect(() => resolvePreflightSettings(undefined, '{ports')).toThrow(/^\.maestro\/preflight\.json: is not JSON/);
    expect(() => resolvePreflightSettings('3000', undefined)).toThrow('context.preflight: must be an object of preflight settings');
  });
});
