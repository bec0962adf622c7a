/**
 * The printed report: one table of both phases side by side, then the aim lines. The aim
 * (issue 9): five times LangGraph.js's runs/s, and transitions/s within twice the floor's
 * steps/s (at least half of it), in the same phase of the same run; also against the figures
 * the issue measured for the peers.
 */
import type { PhaseResult } from './measure.js';
import type { BenchResult } from './engine-bench.js';
import { ms, rate } from '../shared/stats.js';

/** The aim and the issue's figures for the peers. */
export const ENGINE_AIM = {
  timesLangGraph: 5,
  /** "within twice the floor": at least this fraction of the floor's steps/s. */
  fractionOfFloor: 0.5,
  issueLangGraphRunsPerSecond: [61, 122],
  issueFloorStepsPerSecond: [1200, 4200],
} as const;

type PhaseName = 'sequential' | 'concurrent';

function row(result: BenchResult, phase: PhaseName, concurrency: number): string {
  const p: PhaseResult = result[phase];
  const note = [p.finished ? '' : 'budget ran out', p.errors > 0 ? `${p.errors} errors: ${p.firstError ?? ''}` : ''].filter((n) => n !== '').join('; ');
  const label = phase === 'sequential' ? '1 (sequential)' : String(concurrency);
  return (
    `| ${result.name} | ${label} | ${p.runs}${note === '' ? '' : ` (${note})`} | ${rate(p.runsPerSecond)} | ${rate(p.stepsPerSecond)} | ` +
    `${ms(p.stepP50Ms)} | ${ms(p.stepP99Ms)} | ${ms(p.runP50Ms)} | ${ms(p.runP99Ms)} |`
  );
}

/** Prints the table of every result, sequential rows first. */
export function printTable(results: readonly BenchResult[], concurrency: number, print: (line: string) => void): void {
  print('\n4 steps per run (4 working states / nodes, one after the other); a step = one durable transition');
  print('| system | runs in flight | runs | runs/s | transitions/s | step p50 ms | step p99 ms | run p50 ms | run p99 ms |');
  print('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const phase of ['sequential', 'concurrent'] as const) for (const r of results) print(row(r, phase, concurrency));
  print('\nsettings:');
  for (const r of results) print(`  ${r.name}: ${r.settings}`);
}

function verdict(ok: boolean): string {
  return ok ? 'met' : 'NOT met';
}

/** Prints, per phase and per system of ours, the ratios to the best LangGraph row and to the floor. */
export function printAims(results: readonly BenchResult[], print: (line: string) => void): void {
  const ours = results.filter((r) => r.role === 'ours');
  const peers = results.filter((r) => r.role === 'peer');
  const floor = results.find((r) => r.role === 'floor');
  const [lgLow, lgHigh] = ENGINE_AIM.issueLangGraphRunsPerSecond;
  const [floorLow, floorHigh] = ENGINE_AIM.issueFloorStepsPerSecond;
  print(`\nagainst the aim (≥ ${ENGINE_AIM.timesLangGraph}× LangGraph.js's runs/s; ≥ ${ENGINE_AIM.fractionOfFloor}× the floor's steps/s, i.e. within twice the floor):`);
  for (const phase of ['sequential', 'concurrent'] as const) {
    const bestPeer = [...peers].sort((a, b) => b[phase].runsPerSecond - a[phase].runsPerSecond)[0];
    for (const r of ours) {
      const o = r[phase];
      const parts: string[] = [];
      if (bestPeer !== undefined) {
        const times = o.runsPerSecond / bestPeer[phase].runsPerSecond;
        parts.push(`${times.toFixed(2)}× ${bestPeer.name} (${rate(o.runsPerSecond)} vs ${rate(bestPeer[phase].runsPerSecond)} runs/s) → ${verdict(times >= ENGINE_AIM.timesLangGraph)}`);
      }
      if (floor !== undefined) {
        const fraction = o.stepsPerSecond / floor[phase].stepsPerSecond;
        parts.push(`${fraction.toFixed(2)} of the floor (${rate(o.stepsPerSecond)} vs ${rate(floor[phase].stepsPerSecond)} transitions/s) → ${verdict(fraction >= ENGINE_AIM.fractionOfFloor)}`);
      }
      print(`  ${phase}, ${r.name}: ${parts.join('; ')}`);
    }
  }
  if (floor !== undefined) printAimAgainstFloor(peers, floor, print);
  for (const r of ours) {
    const best = Math.max(r.sequential.runsPerSecond, r.concurrent.runsPerSecond);
    const bestSteps = Math.max(r.sequential.stepsPerSecond, r.concurrent.stepsPerSecond);
    print(
      `  vs the issue's figures, ${r.name} at its best phase: ${rate(best)} runs/s = ${(best / lgHigh).toFixed(2)}–${(best / lgLow).toFixed(2)}× ` +
        `LangGraph's ${lgLow}–${lgHigh} runs/s; ${rate(bestSteps)} transitions/s = ${(bestSteps / floorHigh).toFixed(2)}–${(bestSteps / floorLow).toFixed(2)} of the floor's ${floorLow}–${floorHigh} steps/s`,
    );
  }
}

/**
 * Where the "5× LangGraph.js" aim stands against the floor of the same run, per phase: the floor
 * (one UPDATE per transition, in-process, no history, no events, no RPC) is the least any durable
 * state machine on this PostgreSQL does, so an aim above it cannot be met by anything that commits
 * each transition and is called over the network.
 */
function printAimAgainstFloor(peers: readonly BenchResult[], floor: BenchResult, print: (line: string) => void): void {
  for (const phase of ['sequential', 'concurrent'] as const) {
    const bestPeer = [...peers].sort((a, b) => b[phase].runsPerSecond - a[phase].runsPerSecond)[0];
    if (bestPeer === undefined) continue;
    const asked = ENGINE_AIM.timesLangGraph * bestPeer[phase].runsPerSecond;
    const floorRuns = floor[phase].runsPerSecond;
    print(
      `  ${phase}: the aim asks for ${rate(asked)} runs/s (${ENGINE_AIM.timesLangGraph} × ${rate(bestPeer[phase].runsPerSecond)}); the floor does ${rate(floorRuns)} runs/s, ` +
        `so the aim is ${(asked / floorRuns).toFixed(2)}× the floor${asked > floorRuns ? ' — above what a bare in-process state machine with one UPDATE per transition does here' : ''}`,
    );
  }
}
