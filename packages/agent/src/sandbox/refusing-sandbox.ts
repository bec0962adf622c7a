/**
 * What commands get when no sandbox could be had and the operator did not allow unsandboxed
 * ones: every command is refused with `SANDBOX_UNAVAILABLE` and the probe's reason, and the agent
 * reads that in its observation instead of the command's output.
 */
import { SandboxError, SandboxErrorCodes, type LimitEnforcement, type PreparedCommand, type Sandbox } from './sandbox.js';

/** Refuses every command, saying why and what the operator can do. */
export class RefusingSandbox implements Sandbox {
  readonly kind = 'refusing' as const;

  /** `reason` is why the sandbox is unavailable (the probe's answer). */
  constructor(readonly reason: string) {}

  prepare(): Promise<PreparedCommand> {
    return Promise.reject(
      new SandboxError(
        SandboxErrorCodes.unavailable,
        `commands are refused: the sandbox is unavailable (${this.reason}). An operator must install bubblewrap, or set MAESTRO_ALLOW_UNSANDBOXED=true to run commands without a sandbox.`,
      ),
    );
  }

  enforcement(): LimitEnforcement[] {
    return [];
  }
}
