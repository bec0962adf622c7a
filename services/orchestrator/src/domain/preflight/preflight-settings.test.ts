import { PreflightDefaults, resolvePreflightSettings } from './preflight-settings.js';

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
