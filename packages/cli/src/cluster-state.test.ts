import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRunning, readClusterState, removeClusterState, runningProcesses, stateDirOf, stateFileOf, writeClusterState, type ClusterState } from './cluster-state.js';

const ownEntry = readFileSync('/proc/self/cmdline', 'utf8').split('\0')[1]!;

describe('the cluster state file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'maestro-state-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const state = (processes: ClusterState['processes']): ClusterState => ({
    version: 1,
    mode: 'detached',
    startedAt: '2026-01-01T00:00:00.000Z',
    gatewayUrl: 'http://127.0.0.1:8080',
    viewerUrl: 'http://127.0.0.1:8080/',
    models: 'scripted',
    database: 'maestro',
    logDir: '/tmp/logs',
    processes,
  });

  it('is MAESTRO_STATE_DIR, else .maestro under the workspace root', () => {
    expect(stateDirOf({ stateDir: '/somewhere' }, '/ws')).toBe('/somewhere');
    expect(stateDirOf({ stateDir: undefined }, '/ws')).toBe('/ws/.maestro');
  });

  it('round-trips, and is gone once removed', () => {
    expect(readClusterState(dir)).toBeUndefined();
    writeClusterState(dir, state([]));
    expect(readClusterState(dir)).toEqual(state([]));
    removeClusterState(dir);
    expect(readClusterState(dir)).toBeUndefined();
  });

  it('refuses a file that is not a state file, naming it', () => {
    writeFileSync(stateFileOf(dir), '{"hello":1}');
    expect(() => readClusterState(dir)).toThrow(`${stateFileOf(dir)} is not a maestro state file`);
    writeFileSync(stateFileOf(dir), 'not json');
    expect(() => readClusterState(dir)).toThrow(/is not a maestro state file/);
  });

  it('counts a PID as running only while it runs the recorded script', () => {
    const us = { label: 'us', pid: process.pid, entry: ownEntry, grpcAddr: '', logFile: '' };
    expect(isRunning(us)).toBe(true);
    // The same PID running something else (as after PID reuse) is not ours.
    expect(isRunning({ ...us, entry: '/elsewhere/services/gateway/dist/main.js' })).toBe(false);
    expect(isRunning({ ...us, pid: 2 ** 22 + 1 })).toBe(false);
    expect(runningProcesses(state([us, { ...us, label: 'other', entry: '/x.js' }])).map((p) => p.label)).toEqual(['us']);
  });
});
