/**
 * The provider factory: turns a configured model spec into a {@link ChatProvider} — the
 * scripted replayer, Gemini through `@google/genai`, or an OpenAI-compatible endpoint (OpenAI,
 * DeepSeek, vLLM, Ollama, LiteLLM, OpenRouter) through the `openai` SDK.
 */
import { UserError } from '@maestro/runtime';
import type { ChatProvider } from './chat-provider.js';
import { parseModelSpec, type ModelSpec, type ProviderName } from './model-spec.js';
import { ProviderErrorCodes } from './provider-errors.js';
import { GeminiProvider } from './providers/gemini/gemini-provider.js';
import { OpenAICompatibleProvider } from './providers/openai-compatible/openai-compatible-provider.js';
import { ScriptedProvider } from './scripted-provider.js';

/** DeepSeek's API, OpenAI-compatible. */
export const DEEPSEEK_DEFAULT_BASE_URL = 'https://api.deepseek.com';
/** OpenAI's API (the `openai` SDK's own default). */
export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/** A provider's key and endpoint, and the variable the key comes from (for messages). */
export interface ProviderCredentials {
  apiKey: string;
  /** Empty or absent: the provider's public endpoint. */
  baseUrl?: string;
}

/** The variable each provider's key is read from. */
export const ProviderKeyVariables: Readonly<Record<Exclude<ProviderName, 'scripted'>, string>> = {
  gemini: 'GEMINI_API_KEY',
  deepseek: 'DEEPSEEK_API_KEY',
  openai: 'OPENAI_API_KEY',
};

/** What a provider may need besides its spec. */
export interface ProviderOptions {
  /** The script file replayed by the `scripted` provider (required for it). */
  scriptPath?: string;
  /** Keys and base URLs per provider (required for the provider a spec names). */
  credentials?: Partial<Record<Exclude<ProviderName, 'scripted'>, ProviderCredentials>>;
  /** Deadline of one HTTP call. @default 120000 */
  timeoutMs?: number;
  /**
   * Send each request's intent in an `x-maestro-intent` header, so a fake provider server
   * replaying a script can match its rules (demos, tests). Off for real providers. @default false
   */
  forwardIntent?: boolean;
}

/** Longest gap between two stream events before a stream counts as stalled. */
function idleTimeoutFor(timeoutMs: number): number {
  return Math.min(60_000, Math.max(1_000, Math.floor(timeoutMs / 2)));
}

function requireKey(provider: Exclude<ProviderName, 'scripted'>, spec: ModelSpec, options: ProviderOptions): ProviderCredentials {
  const credentials = options.credentials?.[provider];
  if (credentials === undefined || credentials.apiKey === '') {
    const variable = ProviderKeyVariables[provider];
    throw new UserError(ProviderErrorCodes.keyMissing, `model "${spec.spec}" needs an API key in ${variable}, which is not set`, {
      reason: 'precondition',
      details: { provider, keyVariable: variable },
    });
  }
  return credentials;
}

/**
 * Creates the provider for `spec` (`scripted`, `gemini:…`, `openai:…`, `deepseek:…`). A
 * missing script or key is a `UserError` naming the variable, so a service configured for it
 * fails at start saying what to set.
 */
export function createProvider(spec: string | ModelSpec, options: ProviderOptions = {}): ChatProvider {
  const parsed = typeof spec === 'string' ? parseModelSpec(spec) : spec;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const idleTimeoutMs = idleTimeoutFor(timeoutMs);
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
    case 'gemini': {
      const credentials = requireKey('gemini', parsed, options);
      return new GeminiProvider({
        apiKey: credentials.apiKey,
        keyVariable: ProviderKeyVariables.gemini,
        timeoutMs,
        idleTimeoutMs,
        forwardIntent: options.forwardIntent === true,
        ...(credentials.baseUrl ? { baseUrl: credentials.baseUrl } : {}),
      });
    }
    case 'openai':
    case 'deepseek': {
      const credentials = requireKey(parsed.provider, parsed, options);
      return new OpenAICompatibleProvider({
        name: parsed.provider,
        apiKey: credentials.apiKey,
        keyVariable: ProviderKeyVariables[parsed.provider],
        baseURL: credentials.baseUrl || (parsed.provider === 'deepseek' ? DEEPSEEK_DEFAULT_BASE_URL : OPENAI_DEFAULT_BASE_URL),
        timeoutMs,
        idleTimeoutMs,
        forwardIntent: options.forwardIntent === true,
      });
    }
  }
}
