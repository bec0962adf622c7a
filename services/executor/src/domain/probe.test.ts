import { SubtaskResultSchema, SubtaskWorkSchema, type SubtaskWork } from '@maestro/contracts';
import { isProbe, parseProbeSummary, toProbeResult } from './probe.js';

const probe: SubtaskWork = {
  workId: 'probe-1:1',
  taskId: 'probe',
  runId: 'probe',
  subtaskId: 'probe-1',
  attempt: 1,
  goal: '',
  title: 'probe',
  instructions: '',
  files: [],
  repoPath: '/nowhere',
  testCommand: [],
  project: 'probe',
  kind: 'probe',
  probeSentAt: 1_718_000_000_000.25,
};

describe('probe work', () => {
  it('is recognised by kind only; work without a kind is coding work', () => {
    expect(isProbe(probe)).toBe(true);
    const { kind: _kind, ...code } = probe;
    expect(isProbe(SubtaskWorkSchema.parse(code))).toBe(false);
    expect(isProbe({ kind: 'code' })).toBe(false);
  });

  it('rejects a probe that would sleep longer than a minute', () => {
    expect(SubtaskWorkSchema.safeParse({ ...probe, probeWorkMs: 60_001 }).success).toBe(false);
    expect(SubtaskWorkSchema.safeParse({ ...probe, probeWorkMs: 60_000 }).success).toBe(true);
  });

  it('reports pick-up latency in a result the orchestrator schema accepts', () => {
    const result = toProbeResult(probe, { startedAt: 1_718_000_000_001.5 }, { executorId: 'e1', finishedAt: '2024-06-10T06:13:20.002Z' });
    expect(SubtaskResultSchema.parse(result)).toEqual(result);
    expect(result).toMatchObject({ workId: 'probe-1:1', ok: true, steps: 0, filesChanged: [], executorId: 'e1' });
    expect(result.summary).toBe('probe: picked up 1.250 ms after probeSentAt; worked 0 ms; startedAt=1718000000001.500');
    expect(parseProbeSummary(result.summary)).toEqual({ startedAt: 1_718_000_000_001.5, pickupMs: 1.25 });
  });

  it('omits the latency when the sender gave no time, and parses nothing that is not a probe', () => {
    const { probeSentAt: _sent, ...unsent } = probe;
    const result = toProbeResult({ ...unsent, probeWorkMs: 3000 }, { startedAt: 5 }, { executorId: 'e1', finishedAt: 'x' });
    expect(result.summary).toBe('probe: worked 3000 ms; startedAt=5.000');
    expect(parseProbeSummary(result.summary)).toEqual({ startedAt: 5 });
    expect(parseProbeSummary('Added subtract() (startedAt=5)')).toBeUndefined();
  });
});
