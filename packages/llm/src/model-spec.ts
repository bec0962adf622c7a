/**
 * Model specs: how configuration names a model (`<provider>:<model>`, or just `scripted`).
 */
import { UserError } from '@maestro/runtime';

/** Providers CodeMaestro knows by name, each with its adapter (`scripted` replays a script and says so). */
export const ProviderNames = {
  scripted: 'scripted',
  gemini: 'gemini',
  openai: 'openai',
  deepseek: 'deepseek',
} as const;
/** One of {@link ProviderNames}. */
export type ProviderName = (typeof ProviderNames)[keyof typeof ProviderNames];

/** A parsed model spec. */
export interface ModelSpec {
  provider: ProviderName;
  /** The provider's model id (`gemini-2.5-pro`); `scripted` for the scripted provider. */
  model: string;
  /** The spec as written, for messages and price lookups. */
  spec: string;
}

/**
 * Parses `gemini:gemini-2.5-pro`, `deepseek:deepseek-chat`, `openai:gpt-4o` or `scripted`
 * (`scripted:<label>` is accepted too); throws a `UserError` (`INVALID_MODEL_SPEC`) saying
 * what a valid spec looks like.
 */
export function parseModelSpec(spec: string): ModelSpec {
  const trimmed = spec.trim();
  const colon = trimmed.indexOf(':');
  const provider = colon === -1 ? trimmed : trimmed.slice(0, colon);
  const model = colon === -1 ? '' : trimmed.slice(colon + 1);
  const known = Object.values(ProviderNames) as string[];
  if (!known.includes(provider)) {
    throw new UserError(
      'INVALID_MODEL_SPEC',
      `model spec "${spec}" names an unknown provider "${provider}"; expected <provider>:<model> with provider one of ${known.join(', ')} (or just "scripted")`,
    );
  }
  if (provider === ProviderNames.scripted) {
    return { provider, model: model === '' ? 'scripted' : model, spec: trimmed };
  }
  if (model === '') {
    throw new UserError(
      'INVALID_MODEL_SPEC',
      `model spec "${spec}" has no model; write it as ${provider}:<model id>, for example ${exampleModel(provider as ProviderName)}`,
    );
  }
  return { provider: provider as ProviderName, model, spec: trimmed };
}

function exampleModel(provider: ProviderName): string {
  switch (provider) {
    case 'gemini':
      return 'gemini:gemini-2.5-pro';
    case 'deepseek':
      return 'deepseek:deepseek-chat';
    case 'openai':
      return 'openai:gpt-4o';
    case 'scripted':
      return 'scripted';
  }
}
