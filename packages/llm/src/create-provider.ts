/**
 * The provider factory: turns a configured model spec into a {@link ChatProvider}.
 */
import { UserError } from '@maestro/runtime';
import type { ChatProvider } from './chat-provider.js';
import { parseModelSpec, type ModelSpec } from './model-spec.js';
import { ScriptedProvider } from './scripted-provider.js';

/** What a provider may need besides its spec. */
export interface ProviderOptions {
  /** The script file replayed by the `scripted` provider (required for it). */
  scriptPath?: string;
}

/**
 * Creates the provider for `spec` (`scripted`, `gemini:…`, `openai:…`, `deepseek:…`).
 * Only `scripted` is built so far: the Gemini and OpenAI-compatible adapters throw a
 * `UserError` (`PROVIDER_NOT_BUILT`) rather than pretend, so a service configured for them
 * fails at start with a message saying what to do.
 */
export function createProvider(spec: string | ModelSpec, options: ProviderOptions = {}): ChatProvider {
  const parsed = typeof spec === 'string' ? parseModelSpec(spec) : spec;
  switch (parsed.provider) {
    case 'scripted': {
      if (options.scriptPath === undefined || options.scriptPath === '') {
        throw new UserError(
          'SCRIPT_PATH_REQUIRED',
          `model "${parsed.spec}" replays a script, but no script file was given (set MAESTRO_SCRIPT_PATH)`,
        );
      }
      return ScriptedProvider.fromFile(options.scriptPath);
    }
    case 'gemini':
    case 'openai':
    case 'deepseek':
      throw new UserError(
        'PROVIDER_NOT_BUILT',
        `the ${parsed.provider} provider adapter is not built yet, so model "${parsed.spec}" cannot be used; use "scripted" (with a script file) for offline runs`,
        { reason: 'precondition', details: { provider: parsed.provider, model: parsed.model } },
      );
  }
}
