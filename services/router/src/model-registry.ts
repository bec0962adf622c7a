/**
 * Builds, at start, a provider for every model the router may use — the two tiers, their
 * fallbacks, and every spec the routing policy names — failing fast with the variable named;
 * then serves, per routing decision, the resilient chain (retries, a circuit breaker per
 * provider, fallbacks) that answers it.
 */
import { ConfigError, isMaestroError, systemClock, type Clock, type Logger } from '@maestro/runtime';
import {
  CircuitBreakerRegistry,
  createProvider,
  createResilientProvider,
  parseModelSpec,
  ProviderKeyVariables,
  type ChatProvider,
  type ModelSpec,
  type ProviderOptions,
} from '@maestro/llm';
import type { RouterConfig } from './config.js';
import type { RouteDecision, TierModels } from './domain/routing.js';
import { specsNamedBy, type RoutingPolicy } from './domain/routing-policy.js';

/** The providers of every configured model, and the chains decisions are served by. */
export interface ModelRegistry {
  /** The model of each tier with its fallbacks. */
  readonly tiers: TierModels;
  /** The chain that serves `decision`: its spec, then its fallbacks, each retried and guarded. */
  chainFor(decision: Pick<RouteDecision, 'spec' | 'fallbacks'>): ChatProvider;
  /** True when any configured model is scripted (said at start). */
  readonly anyScripted: boolean;
}

/** Where a model comes from, for error messages. */
interface Wanted {
  spec: ModelSpec;
  variable: string;
}

function providerOptions(config: RouterConfig): ProviderOptions {
  return {
    scriptPath: config.scriptPath,
    timeoutMs: config.providerTimeoutMs,
    forwardIntent: config.forwardIntent,
    credentials: {
      gemini: { apiKey: config.geminiApiKey, baseUrl: config.geminiBaseUrl },
      deepseek: { apiKey: config.deepseekApiKey, baseUrl: config.deepseekBaseUrl },
      openai: { apiKey: config.openaiApiKey, baseUrl: config.openaiBaseUrl },
    },
  };
}

/** The variable at fault for a provider creation error. */
function variableOf(code: string, wanted: Wanted, details: Record<string, unknown> | undefined): string {
  if (code.startsWith('SCRIPT_')) return 'MAESTRO_SCRIPT_PATH';
  const keyVariable = details?.['keyVariable'];
  if (typeof keyVariable === 'string') return keyVariable;
  return wanted.variable;
}

/**
 * Creates every provider (one script load for all scripted specs; one client per spec), or
 * throws a `ConfigError` naming each variable to fix: a missing key names `GEMINI_API_KEY` /
 * `DEEPSEEK_API_KEY` / `OPENAI_API_KEY`, a bad script `MAESTRO_SCRIPT_PATH`.
 */
export function createModelRegistry(
  config: RouterConfig,
  policy: RoutingPolicy,
  deps: { logger: Logger; clock?: Clock },
): ModelRegistry {
  const clock = deps.clock ?? systemClock;
  const wanted: Wanted[] = [
    { spec: config.strategicModel, variable: 'MAESTRO_STRATEGIC_MODEL' },
    { spec: config.tacticalModel, variable: 'MAESTRO_TACTICAL_MODEL' },
    ...config.strategicFallback.map((spec) => ({ spec, variable: 'MAESTRO_STRATEGIC_FALLBACK' })),
    ...config.tacticalFallback.map((spec) => ({ spec, variable: 'MAESTRO_TACTICAL_FALLBACK' })),
    ...specsNamedBy(policy).map((s) => ({ spec: parseModelSpec(s), variable: 'MAESTRO_ROUTING_POLICY_PATH' })),
  ];
  const options = providerOptions(config);
  const problems: Array<{ variable: string; problem: string }> = [];
  const providers = new Map<string, ChatProvider>();
  let scripted: ChatProvider | undefined;
  for (const want of wanted) {
    if (providers.has(want.spec.spec)) continue;
    try {
      const provider =
        want.spec.provider === 'scripted' ? (scripted ??= createProvider(want.spec, options)) : createProvider(want.spec, options);
      providers.set(want.spec.spec, provider);
    } catch (err) {
      if (!isMaestroError(err)) throw err;
      const variable = variableOf(err.code, want, err.details);
      if (!problems.some((p) => p.variable === variable && p.problem === err.message)) problems.push({ variable, problem: err.message });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const breakers = new CircuitBreakerRegistry({
    clock,
    breaker: { failureThreshold: config.breakerFailureThreshold, openMs: config.breakerOpenMs },
    onStateChange: (change) => deps.logger.warn('provider circuit changed', { ...change }),
  });
  const chains = new Map<string, ChatProvider>();
  return {
    tiers: {
      strategic: { spec: config.strategicModel, fallbacks: config.strategicFallback },
      tactical: { spec: config.tacticalModel, fallbacks: config.tacticalFallback },
    },
    anyScripted: [...providers.values()].some((p) => p.name === 'scripted'),
    chainFor(decision) {
      const specs = [decision.spec, ...decision.fallbacks];
      const key = specs.join(',');
      const cached = chains.get(key);
      if (cached !== undefined) return cached;
      const chain = createResilientProvider({
        entries: specs.map((s) => {
          const provider = providers.get(s);
          if (provider === undefined) throw new ConfigError([{ variable: 'MAESTRO_ROUTING_POLICY_PATH', problem: `model ${s} was not configured at start` }]);
          return { spec: s, model: parseModelSpec(s).model, provider };
        }),
        clock,
        breakers,
        retry: { maxAttempts: config.providerMaxAttempts, maxElapsedMs: config.providerRetryMaxMs },
        onEvent: (event) => {
          if (event.type === 'retry') {
            deps.logger.warn('provider call retried', { spec: event.spec, attempt: event.attempt, delayMs: event.delayMs, code: event.error.code, message: event.error.message });
          } else if (event.type === 'fallback') {
            const error = event.error as { code?: string; message?: string };
            deps.logger.warn('provider fell back', { from: event.from, to: event.to, code: error.code, message: error.message });
          }
        },
      });
      chains.set(key, chain);
      return chain;
    },
  };
}

/** Keys are never logged: this lists which key variables are set, for the start line. */
export function describeKeys(config: RouterConfig): Record<string, boolean> {
  return {
    [ProviderKeyVariables.gemini]: config.geminiApiKey !== '',
    [ProviderKeyVariables.deepseek]: config.deepseekApiKey !== '',
    [ProviderKeyVariables.openai]: config.openaiApiKey !== '',
  };
}
