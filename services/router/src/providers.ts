/**
 * Builds the provider for each role at start, failing fast (with the variable named) when a
 * configured provider cannot be built.
 */
import { ConfigError, isMaestroError } from '@maestro/runtime';
import { createProvider, type ChatProvider, type ModelSpec } from '@maestro/llm';
import type { RouterConfig } from './config.js';
import type { Role } from './domain/routing.js';

/** The model and provider serving one role. */
export interface RoleRoute {
  spec: ModelSpec;
  provider: ChatProvider;
}

/** The route of each role. */
export type RoleRoutes = Readonly<Record<Role, RoleRoute>>;

/**
 * Creates both providers (one script load when both roles are scripted). A provider that is
 * not built (`gemini`, `openai`, `deepseek` today) or a bad script file becomes a
 * `ConfigError` naming the variable, so the service exits at start saying what to change.
 */
export function createRoleProviders(config: RouterConfig): RoleRoutes {
  const problems: Array<{ variable: string; problem: string }> = [];
  const cache = new Map<string, ChatProvider>();
  const build = (variable: string, spec: ModelSpec): ChatProvider | undefined => {
    const key = spec.provider === 'scripted' ? `scripted:${config.scriptPath}` : spec.spec;
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    try {
      const provider = createProvider(spec, { scriptPath: config.scriptPath });
      cache.set(key, provider);
      return provider;
    } catch (err) {
      if (!isMaestroError(err)) throw err;
      const scriptProblem = err.code.startsWith('SCRIPT_');
      problems.push({ variable: scriptProblem ? 'MAESTRO_SCRIPT_PATH' : variable, problem: err.message });
      return undefined;
    }
  };
  const strategic = build('MAESTRO_STRATEGIC_MODEL', config.strategicModel);
  const tactical = build('MAESTRO_TACTICAL_MODEL', config.tacticalModel);
  if (strategic === undefined || tactical === undefined) {
    // The same script problem reported for both roles is said once.
    const unique = problems.filter((p, i) => problems.findIndex((q) => q.variable === p.variable && q.problem === p.problem) === i);
    throw new ConfigError(unique);
  }
  return {
    strategic: { spec: config.strategicModel, provider: strategic },
    tactical: { spec: config.tacticalModel, provider: tactical },
  };
}
