import { ManualClock, Registry, createSilentLogger, parsePrometheusText, sampleValue, type LogFields, type Logger } from '@maestro/runtime';
import { liveRejectionCounter } from './bus-metrics.js';
import { LiveRejections } from './live-rejections.js';
import { SignatureRejections } from './message-signing.js';

/** Keeps its warnings, so the test can count them. */
function recordingLogger(): Logger & { warnings: Array<{ message: string; fields?: LogFields }> } {
  const warnings: Array<{ message: string; fields?: LogFields }> = [];
  const silent = createSilentLogger();
  const logger = {
    ...silent,
    warnings,
    warn: (message: string, fields?: LogFields) => void warnings.push({ message, ...(fields ? { fields } : {}) }),
    child: () => logger,
  };
  return logger;
}

describe('LiveRejections', () => {
  it('counts every dropped message, and warns once per subscription and reason per interval with the number dropped since', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const registry = new Registry();
    const logger = recordingLogger();
    const rejections = new LiveRejections({ logger, counter: liveRejectionCounter(registry), clock, intervalMs: 60_000 });

    for (let i = 0; i < 100; i++) rejections.record('maestro.events.>', 'ns.maestro.events.task.updated', SignatureRejections.unsigned, 'not signed');
    rejections.record('maestro.events.>', 'ns.maestro.events.task.updated', SignatureRejections.badSignature, 'bad');
    rejections.record('maestro.events.task.updated', 'ns.maestro.events.task.updated', SignatureRejections.unsigned, 'not signed');
    expect(logger.warnings).toHaveLength(3);

    clock.advance(60_000);
    rejections.record('maestro.events.>', 'ns.maestro.events.task.updated', SignatureRejections.unsigned, 'not signed');
    expect(logger.warnings).toHaveLength(4);
    expect(logger.warnings[3]?.fields).toMatchObject({ subscription: 'maestro.events.>', rejection: 'UNSIGNED', droppedSinceLastWarning: 99 });

    const parsed = parsePrometheusText(await registry.metrics());
    expect(sampleValue(parsed, 'maestro_live_messages_rejected_total', { subscription: 'maestro.events.>', reason: 'unsigned' })).toBe(101);
    expect(sampleValue(parsed, 'maestro_live_messages_rejected_total', { subscription: 'maestro.events.>', reason: 'bad_signature' })).toBe(1);
    expect(sampleValue(parsed, 'maestro_live_messages_rejected_total', { subscription: 'maestro.events.task.updated', reason: 'unsigned' })).toBe(1);
  });
});
