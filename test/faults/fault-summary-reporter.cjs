/**
 * A Jest reporter that prints the fault suite's summary after the whole run: one row per fault
 * scenario that ran. Each scenario writes its row to `<dir>/<scenario>.json` (test/faults/workload.ts
 * `report`), where `<dir>` is a directory of this run's own under .demo/fault-results/, handed to
 * the test workers in MAESTRO_FAULT_RESULTS_DIR (set here, before Jest starts them), so runs at the
 * same time never mix or delete each other's rows. Plain CommonJS: Jest loads reporters without
 * transforming them.
 */
const { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } = require('node:fs');
const { join } = require('node:path');

const columns = ['scenario', 'invoked', 'ok', 'failed', 'unknown', 'lost', 'duplicated', 'double-effects', 'phantoms', 'terminal (done/failed/dlq/cancelled)'];

function cells(row) {
  const t = row.terminal;
  return [row.scenario, row.invoked, row.ok, row.failed, row.unknown, row.lost, row.duplicated, row.doubleEffects, row.phantoms, `${t.done}/${t.failed}/${t['dead-lettered']}/${t.cancelled}`].map(String);
}

class FaultSummaryReporter {
  constructor(globalConfig) {
    this.dir = join(globalConfig.rootDir, '.demo', 'fault-results', `run-${process.pid}-${Date.now()}`);
    process.env.MAESTRO_FAULT_RESULTS_DIR = this.dir;
  }

  onRunStart() {
    mkdirSync(this.dir, { recursive: true });
  }

  onRunComplete() {
    if (!existsSync(this.dir)) return;
    const rows = readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => JSON.parse(readFileSync(join(this.dir, f), 'utf8')).row);
    rmSync(this.dir, { recursive: true, force: true });
    if (rows.length === 0) return;
    const body = rows.map(cells);
    const widths = columns.map((c, i) => Math.max(c.length, ...body.map((r) => r[i].length)));
    const line = (values) => `| ${values.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
    const clean = rows.every((r) => r.lost === 0 && r.duplicated === 0 && r.doubleEffects === 0 && r.phantoms === 0);
    const out = [
      '',
      'Fault suite summary (test/faults; Jepsen-style: every accepted task ends once, nothing lost or done twice)',
      line(columns),
      `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
      ...body.map(line),
      ...rows.flatMap((r) => r.problems.map((p) => `  ✗ ${r.scenario}: ${p}`)),
      clean ? 'No accepted task was lost, duplicated or done twice.' : 'ANOMALIES FOUND: see ✗ lines above and each scenario\'s output.',
      '',
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  }
}

module.exports = FaultSummaryReporter;
