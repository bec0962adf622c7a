import { PassThrough } from 'node:stream';
import { ConfigError, createLogger, loadConfig } from '@maestro/runtime';
import type { BubblewrapSandboxOptions } from './bubblewrap-sandbox.js';
import type { SandboxProbe } from './probe-sandbox.js';
import { createSandboxFromSettings, parseSandboxReadPaths, sandboxEnv } from './sandbox-settings.js';

const spec = {
  sandbox: sandboxEnv.mode('MAESTRO_SANDBOX'),
  allowUnsandboxed: sandboxEnv.allowUnsandboxed('MAESTRO_ALLOW_UNSANDBOXED'),
  sandboxNetwork: sandboxEnv.network('MAESTRO_SANDBOX_NETWORK'),
  sandboxReadPaths: sandboxEnv.readPaths('MAESTRO_SANDBOX_READ_PATHS', { default: [] }),
  sandboxAllowUnlimitedProcesses: sandboxEnv.allowUnlimitedProcesses('MAESTRO_SANDBOX_ALLOW_UNLIMITED_PROCESSES'),
  sandboxMinFreeDiskMib: sandboxEnv.minFreeDiskMib('MAESTRO_SANDBOX_MIN_FREE_DISK_MIB'),
};

function capturedLogger(): { logger: ReturnType<typeof createLogger>; lines: () => string } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  return { logger: createLogger({ service: 'sandbox-test', destination: stream }), lines: () => chunks.join('') };
}

describe('createSandboxFromSettings', () => {
  it('refuses MAESTRO_SANDBOX=none without MAESTRO_ALLOW_UNSANDBOXED, naming both', async () => {
    const { logger } = capturedLogger();
    const error = await createSandboxFromSettings({ sandbox: 'none' }, logger).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable)).toEqual(['MAESTRO_SANDBOX', 'MAESTRO_ALLOW_UNSANDBOXED']);
  });

  it('runs unsandboxed with MAESTRO_SANDBOX=none and MAESTRO_ALLOW_UNSANDBOXED=true, warning at start', async () => {
    const { logger, lines } = capturedLogger();
    const sandbox = await createSandboxFromSettings({ sandbox: 'none', allowUnsandboxed: true }, logger);
    expect(sandbox.kind).toBe('unsandboxed');
    expect(lines()).toMatch(/"level":"warn".*SANDBOX OFF/);
  });

  it('probes bubblewrap by default and logs how each limit is enforced', async () => {
    const { logger, lines } = capturedLogger();
    const sandbox = await createSandboxFromSettings({}, logger);
    expect(sandbox.kind).toBe('bubblewrap');
    expect(lines()).toMatch(/"processes":".*"msg":"command sandbox: bubblewrap"/);
  });

  it('hands MAESTRO_SANDBOX_ALLOW_UNLIMITED_PROCESSES to the bubblewrap sandbox (false unless set)', async () => {
    const { logger } = capturedLogger();
    const given: Array<boolean | undefined> = [];
    const probe = (options: BubblewrapSandboxOptions): Promise<SandboxProbe> => {
      given.push(options.allowUnlimitedProcesses);
      return Promise.resolve({ available: false, failed: 'bubblewrap', reason: 'not probed in this test' });
    };
    await createSandboxFromSettings({}, logger, { probe });
    await createSandboxFromSettings({ sandboxAllowUnlimitedProcesses: true }, logger, { probe });
    expect(given).toEqual([false, true]);
  });

  it('hands MAESTRO_SANDBOX_MIN_FREE_DISK_MIB to the bubblewrap sandbox as its disk floor in bytes', async () => {
    const { logger } = capturedLogger();
    const given: Array<number | undefined> = [];
    const probe = (options: BubblewrapSandboxOptions): Promise<SandboxProbe> => {
      given.push(options.limits?.minFreeDiskBytes);
      return Promise.resolve({ available: false, failed: 'bubblewrap', reason: 'not probed in this test' });
    };
    await createSandboxFromSettings({}, logger, { probe });
    await createSandboxFromSettings({ sandboxMinFreeDiskMib: 1024 }, logger, { probe });
    expect(given).toEqual([undefined, 1024 * 1024 * 1024]);
  });
});

describe('the sandbox variables', () => {
  it('default to bubblewrap, no network, nothing unsandboxed, no unlimited processes', () => {
    const config = loadConfig(spec, {});
    expect([config.sandbox, config.allowUnsandboxed, config.sandboxNetwork, config.sandboxReadPaths, config.sandboxAllowUnlimitedProcesses]).toEqual(['bwrap', false, 'deny', [], false]);
    expect(loadConfig(spec, { MAESTRO_SANDBOX_ALLOW_UNLIMITED_PROCESSES: 'true' }).sandboxAllowUnlimitedProcesses).toBe(true);
  });

  it('keep 256 MiB free on the disk unless told otherwise, and refuse a floor that is not a whole positive number', () => {
    expect(loadConfig(spec, {}).sandboxMinFreeDiskMib).toBe(256);
    expect(loadConfig(spec, { MAESTRO_SANDBOX_MIN_FREE_DISK_MIB: '2048' }).sandboxMinFreeDiskMib).toBe(2048);
    expect(() => loadConfig(spec, { MAESTRO_SANDBOX_MIN_FREE_DISK_MIB: '0' })).toThrow(/MAESTRO_SANDBOX_MIN_FREE_DISK_MIB/);
    expect(() => loadConfig(spec, { MAESTRO_SANDBOX_MIN_FREE_DISK_MIB: 'lots' })).toThrow(/MAESTRO_SANDBOX_MIN_FREE_DISK_MIB/);
  });

  it('read colon-separated absolute paths and refuse a relative one', () => {
    expect(parseSandboxReadPaths('/opt/go: /opt/jdk')).toEqual(['/opt/go', '/opt/jdk']);
    expect(() => loadConfig(spec, { MAESTRO_SANDBOX_READ_PATHS: 'opt/go' })).toThrow(/MAESTRO_SANDBOX_READ_PATHS: expected absolute paths/);
  });
});
