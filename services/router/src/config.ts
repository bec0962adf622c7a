/**
 * The router's configuration: every environment variable it reads, declared once.
 */
import { ConfigError, commonEnv, env, grpcAddrEnv, loadConfig, type ConfigOf, type EnvVar } from '@maestro/runtime';
import { parseModelSpec, type ModelSpec } from '@maestro/llm';

/** A model spec variable (`<provider>:<model>` or `scripted`), parsed and checked at start. */
function modelSpec(name: string, defaultSpec: string, doc: string): EnvVar<ModelSpec> {
  return { name, doc, default: parseModelSpec(defaultSpec), parse: (raw) => parseModelSpec(raw) };
}

/** Every variable the router reads. */
export const routerConfigSpec = {
  ...commonEnv,
  grpcAddr: grpcAddrEnv.router,
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
  scriptPath: env.string('MAESTRO_SCRIPT_PATH', {
    default: '',
    doc: 'script file replayed by the scripted provider (required when a model is scripted)',
  }),
} as const;

/** The router's validated, frozen configuration. */
export type RouterConfig = ConfigOf<typeof routerConfigSpec>;

/**
 * Loads and validates the configuration; besides each variable on its own, checks that
 * `MAESTRO_SCRIPT_PATH` is set when either model is scripted. Throws `ConfigError` naming
 * every bad variable.
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
