import { createSilentLogger, ManualClock } from '@maestro/runtime';
import type { CompleteRequest } from '@maestro/contracts';
import { defaultRoutingPolicy, parseRoutingPolicy } from '../domain/routing-policy.js';
import type { RouteDecision } from '../domain/routing.js';
import type { SettledCompletion } from './completion-service.js';
import { DECIDED_BY_RULES, IntentService, type IntentServiceDeps } from './intent-service.js';

const UNSURE = 'look at the retry logic'; // the classifier: code at about 0.21
const SURE = 'fix the crash when the config file is missing';
const logger = createSilentLogger();

/** Completions that route `classify` to `spec` and answer with `reply` (or what `answer` does). */
function completionsFor(spec: string, answer: (request: CompleteRequest, signal: AbortSignal) => Promise<string>): IntentServiceDeps['completions'] & { asked: CompleteRequest[] } {
  const asked: CompleteRequest[] = [];
  return {
    asked,
    route: async () => ({ spec, role: 'strategic', reason: 'test', fallbacks: [] }) as unknown as RouteDecision,
    complete: async (request, _logger, signal) => {
      asked.push(request);
      const content = await answer(request, signal);
      return { result: { message: { role: 'assistant', content }, scripted: false }, servedBy: spec } as unknown as SettledCompletion;
    },
  };
}

function service(completions: IntentServiceDeps['completions'], clock = new ManualClock(), policy = defaultRoutingPolicy): IntentService {
  return new IntentService({ completions, policy, clock });
}

describe('IntentService', () => {
  it('answers a goal the classifier is sure of itself, asking no model', async () => {
    const completions = completionsFor('gemini:gemini-2.5-pro', async () => '{}');
    const answer = await service(completions).classify(SURE, logger);
    expect(answer).toMatchObject({ intent: 'fix', decidedBy: DECIDED_BY_RULES, workflow: 'coding' });
    expect(completions.asked).toEqual([]);
  });

  it('asks the classify model about an unsure goal, in the classify phase, and takes its answer and workflow', async () => {
    const completions = completionsFor('gemini:gemini-2.5-pro', async () => '{"intent": "explain", "confidence": 0.8, "reason": "asks how the retry works"}');
    const answer = await service(completions).classify(UNSURE, logger);
    expect(answer).toEqual({
      intent: 'explain',
      confidence: 0.8,
      reason: expect.stringMatching(/^gemini:gemini-2\.5-pro: asks how the retry works \(the classifier said code at 0\.2\d\)$/),
      workflow: 'explain',
      decidedBy: 'gemini:gemini-2.5-pro',
    });
    expect(completions.asked).toHaveLength(1);
    expect(completions.asked[0]).toMatchObject({ intent: 'classify', role: '', taskId: '', tools: [] });
    expect(completions.asked[0]!.messages.map((m) => m.role)).toEqual(['system', 'user']);
  });

  it('never asks a scripted model', async () => {
    const completions = completionsFor('scripted:demo', async () => '{"intent": "explain", "confidence": 1}');
    expect(await service(completions).classify(UNSURE, logger)).toMatchObject({ intent: 'code', decidedBy: DECIDED_BY_RULES });
    expect(completions.asked).toEqual([]);
  });

  it('asks nothing when the policy says never (askBelow 0)', async () => {
    const completions = completionsFor('gemini:gemini-2.5-pro', async () => '{"intent": "explain", "confidence": 1}');
    const policy = parseRoutingPolicy({ rules: defaultRoutingPolicy.rules, intentModel: { askBelow: 0 } });
    expect(await service(completions, new ManualClock(), policy).classify(UNSURE, logger)).toMatchObject({ decidedBy: DECIDED_BY_RULES });
    expect(completions.asked).toEqual([]);
  });

  it('keeps the classifier\'s answer when the model fails, saying so in the reason', async () => {
    const completions = completionsFor('gemini:gemini-2.5-pro', async () => {
      throw new Error('503 overloaded');
    });
    const answer = await service(completions).classify(UNSURE, logger);
    expect(answer).toMatchObject({ intent: 'code', decidedBy: DECIDED_BY_RULES, workflow: 'coding' });
    expect(answer.reason).toMatch(/\(gemini:gemini-2\.5-pro was asked as the classifier was unsure, and it failed: .*503 overloaded\)$/);
  });

  it('keeps the classifier\'s answer when the reply is unreadable', async () => {
    const completions = completionsFor('gemini:gemini-2.5-pro', async () => 'It is probably a question.');
    const answer = await service(completions).classify(UNSURE, logger);
    expect(answer).toMatchObject({ intent: 'code', decidedBy: DECIDED_BY_RULES });
    expect(answer.reason).toContain('its reply was unreadable: the reply holds no JSON object');
  });

  it('gives up on the model at the policy\'s deadline, aborting its call', async () => {
    const clock = new ManualClock();
    let aborted = false;
    const completions = completionsFor(
      'gemini:gemini-2.5-pro',
      (_request, signal) =>
        new Promise<string>((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('aborted'));
          });
        }),
    );
    const pending = service(completions, clock).classify(UNSURE, logger);
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(defaultRoutingPolicy.intentModel.deadlineMs);
    const answer = await pending;
    expect(aborted).toBe(true);
    expect(answer).toMatchObject({ intent: 'code', decidedBy: DECIDED_BY_RULES });
    expect(answer.reason).toContain(`it gave no answer within ${defaultRoutingPolicy.intentModel.deadlineMs} ms`);
    expect(clock.pendingTimers).toBe(0);
  });

  it('keeps the classifier\'s answer when no model can be routed for classify', async () => {
    const completions = completionsFor('gemini:gemini-2.5-pro', async () => '{}');
    completions.route = async () => {
      throw new Error('success rates unreadable');
    };
    const answer = await service(completions).classify(UNSURE, logger);
    expect(answer).toMatchObject({ intent: 'code', decidedBy: DECIDED_BY_RULES, workflow: 'coding' });
    expect(answer.reason).toContain('no model could be asked as the classifier was unsure');
    expect(completions.asked).toEqual([]);
  });

  it('refuses blank text before anything is asked', async () => {
    const completions = completionsFor('gemini:gemini-2.5-pro', async () => '{}');
    await expect(service(completions).classify('  ', logger)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(completions.asked).toEqual([]);
  });
});

describe('the policy\'s intentModel', () => {
  it('asks below 0.4 within 1.5 s by default, and names the path of a bad value', () => {
    expect(defaultRoutingPolicy.intentModel).toEqual({ askBelow: 0.4, deadlineMs: 1_500 });
    expect(parseRoutingPolicy({ rules: defaultRoutingPolicy.rules, intentModel: { deadlineMs: 3_000 } }).intentModel).toEqual({ askBelow: 0.4, deadlineMs: 3_000 });
    expect(() => parseRoutingPolicy({ rules: defaultRoutingPolicy.rules, intentModel: { askBelow: 2 } })).toThrow(/intentModel\.askBelow/);
    expect(() => parseRoutingPolicy({ rules: defaultRoutingPolicy.rules, intentModel: { ask: 0.3 } })).toThrow(/intentModel/);
  });
});
