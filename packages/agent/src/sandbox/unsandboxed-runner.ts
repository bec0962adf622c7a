/**
 * No sandbox, on an operator's explicit say-so (`MAESTRO_SANDBOX=none`, or
 * `MAESTRO_ALLOW_UNSANDBOXED=true` where bubblewrap is unavailable). Commands keep only
 * `runCommand`'s hygiene: the scrubbed environment, the process-group kill and the timeout. Every
 * command's observation carries a warning saying so.
 */
import type { LimitEnforcement, PreparedCommand, Sandbox, SandboxRequest } from './sandbox.js';

/** Runs commands as they are, and says so in every observation. */
export class UnsandboxedRunner implements Sandbox {
  readonly kind = 'unsandboxed' as const;
  /** The warning each command's observation carries. */
  readonly notice: string;

  /** `why` is the operator's setting that chose this, e.g. `MAESTRO_SANDBOX=none`. */
  constructor(readonly why: string) {
    this.notice = `WARNING: this command ran WITHOUT a sandbox (${why}): it could read, write and reach whatever the executor can.`;
  }

  prepare(argv: readonly string[], request: SandboxRequest): Promise<PreparedCommand> {
    return Promise.resolve({ argv: [...argv], env: { ...request.env }, notice: this.notice, cleanup: () => Promise.resolve() });
  }

  enforcement(): LimitEnforcement[] {
    return [
      { limit: 'wallClock', value: undefined, how: "the caller's timeout kills the process group (a setsid child escapes it)" },
      ...(['cpuSeconds', 'fileSizeBytes', 'openFiles', 'processes', 'memoryBytes'] as const).map((limit) => ({ limit, value: undefined, how: 'not enforced (unsandboxed)' })),
    ];
  }
}
