/**
 * The router's configuration: every environment variable it reads, declared once.
 */
import { ConfigError, commonEnv, env, grpcAddrEnv, loadConfig, metricsPortEnv, type ConfigOf, type EnvVar } from '@maestro/runtime';
import { parseModelSpec, type ModelSpec } from '@maestro/llm';

/** A model spec variable (`<provider>:<model>` or `scripted`), parsed and checked at start. */
function modelSpec(name: string, defaultSpec: string, doc: string): EnvVar<ModelSpec> {
  return { name, doc, default: parseModelSpec(defaultSpec), parse: (raw) => parseModelSpec(raw) };
}

/** A comma-separated list of model specs, each checked. */
function modelSpecList(name: string, doc: string): EnvVar<ModelSpec[]> {
  return {
    name,
    doc,
    default: [],
    parse: (raw) =>
      raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
        .map((s) => parseModelSpec(s)),
  };
}

/** Every variable the router reads. */
export const routerConfigSpec = {
  ...commonEnv,
  grpcAddr: grpcAddrEnv.router,
  metricsPort: metricsPortEnv.router,
  strategicModel: modelSpec(
    'MAESTRO_STRATEGIC_MODEL',
    'gemini:gemini-2.5-pro',
    'model for planning, review and escalations: <provider>:<model> or scripted',
  ),
  tacticalModel: modelSpec(
    'MAESTRO_TACTICAL_MODEL',
    'deepseek:deepseek-chat',
    'model for coding subtasks: <provider>:<model> or scripted',
  ),
  strategicFallback: modelSpecList(
    'MAESTRO_STRATEGIC_FALLBACK',
    'comma-separated model specs tried, in order, while the strategic model fails',
  ),
  tacticalFallback: modelSpecList(
    'MAESTRO_TACTICAL_FALLBACK',
    'comma-separated model specs tried, in order, while the tactical model fails',
  ),
  scriptPath: env.string('MAESTRO_SCRIPT_PATH', {
    default: '',
    doc: 'script file replayed by the scripted provider (required when a model is scripted)',
  }),
  geminiApiKey: env.string('GEMINI_API_KEY', { default: '', doc: 'API key for gemini:* models (required when one is configured); never logged' }),
  deepseekApiKey: env.string('DEEPSEEK_API_KEY', { default: '', doc: 'API key for deepseek:* models (required when one is configured); never logged' }),
  openaiApiKey: env.string('OPENAI_API_KEY', {
    default: '',
    doc: 'API key for openai:* models (required when one is configured; any non-empty value for servers without keys, such as a local vLLM or Ollama); never logged',
  }),
  geminiBaseUrl: env.url('MAESTRO_GEMINI_BASE_URL', {
    default: '',
    protocols: ['http:', 'https:'],
    doc: "Gemini API base URL; empty uses the SDK's default",
  }),
  deepseekBaseUrl: env.url('MAESTRO_DEEPSEEK_BASE_URL', {
    default: 'https://api.deepseek.com',
    protocols: ['http:', 'https:'],
    doc: 'DeepSeek API base URL (OpenAI-compatible)',
  }),
  openaiBaseUrl: env.url('OPENAI_BASE_URL', {
    default: '',
    protocols: ['http:', 'https:'],
    doc: "OpenAI-compatible base URL (OpenAI, vLLM, Ollama, LiteLLM, OpenRouter …, e.g. http://127.0.0.1:11434/v1); empty uses the SDK's default",
  }),
  providerTimeoutMs: env.int('MAESTRO_PROVIDER_TIMEOUT_MS', {
    default: 120_000,
    min: 1_000,
    doc: 'deadline of one HTTP call to a provider (a stream: the longest gap between two events is half of it, at most 60 s)',
  }),
  providerMaxAttempts: env.int('MAESTRO_PROVIDER_MAX_ATTEMPTS', {
    default: 4,
    min: 1,
    max: 20,
    doc: 'attempts of one call to one model on transient failures (429, 5xx, timeouts), with backoff honouring Retry-After',
  }),
  providerRetryMaxMs: env.int('MAESTRO_PROVIDER_RETRY_MAX_MS', {
    default: 60_000,
    min: 0,
    doc: 'longest total time spent retrying one call to one model before its fallback (or the caller) gets the failure',
  }),
  breakerFailureThreshold: env.int('MAESTRO_PROVIDER_BREAKER_THRESHOLD', {
    default: 5,
    min: 1,
    doc: 'consecutive transient failures of a provider after which its circuit opens (calls fail fast, fallbacks serve)',
  }),
  breakerOpenMs: env.int('MAESTRO_PROVIDER_BREAKER_OPEN_MS', {
    default: 30_000,
    min: 100,
    doc: 'how long an open circuit stays open before one trial call is let through',
  }),
  forwardIntent: env.bool('MAESTRO_PROVIDER_FORWARD_INTENT', {
    default: false,
    doc: 'send each call\'s intent to the provider in an x-maestro-intent header; only for fake provider servers replaying a script (maestro demo --wire)',
  }),
  routingPolicyPath: env.string('MAESTRO_ROUTING_POLICY_PATH', {
    default: '',
    doc: 'JSON routing policy (which model serves which phase and task intent; see the README); empty uses the default split',
  }),
  priceTablePath: env.string('MAESTRO_PRICE_TABLE_PATH', {
    default: '',
    doc: 'JSON price table laid over the built-in one (USD per million tokens per model spec)',
  }),
  statsCacheMs: env.int('MAESTRO_ROUTER_STATS_CACHE_MS', {
    default: 30_000,
    min: 0,
    doc: 'how long measured success rates are reused by routing decisions before they are read again',
  }),
} as const;

/** The router's validated, frozen configuration. */
export type RouterConfig = ConfigOf<typeof routerConfigSpec>;

/**
 * Loads and validates the configuration; besides each variable on its own, checks that
 * `MAESTRO_SCRIPT_PATH` is set when either model is scripted. Provider keys are checked when
 * the providers are built (`createProviderRegistry`), since the routing policy may name more
 * models. Throws `ConfigError` naming every bad variable.
 */
export function loadRouterConfig(source: Record<string, string | undefined> = process.env): RouterConfig {
  const config = loadConfig(routerConfigSpec, source);
  const scripted = [config.strategicModel, config.tacticalModel].some((m) => m.provider === 'scripted');
  if (scripted && config.scriptPath === '') {
    throw new ConfigError([
      { variable: 'MAESTRO_SCRIPT_PATH', problem: 'is required when MAESTRO_STRATEGIC_MODEL or MAESTRO_TACTICAL_MODEL is scripted' },
    ]);
  }
  return config;
}
