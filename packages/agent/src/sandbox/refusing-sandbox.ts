/**
 * What commands get when no sandbox could be had and the operator did not allow unsandboxed
 * ones, or bubblewrap works but can bound no command's processes and the operator did not allow
 * that either: every command is refused with `SANDBOX_UNAVAILABLE`, the reason and what an
 * operator can do, and the agent reads that in its observation instead of the command's output.
 */
import { SandboxError, SandboxErrorCodes, type LimitEnforcement, type PreparedCommand, type Sandbox } from './sandbox.js';

/** What an operator can do when bubblewrap is unavailable; the default remedy of {@link RefusingSandbox}. */
export const UNAVAILABLE_REMEDY = 'An operator must install bubblewrap, or set MAESTRO_ALLOW_UNSANDBOXED=true to run commands without a sandbox.';

/** The message of every refused command: the same for {@link RefusingSandbox} and a bubblewrap sandbox refusing on its own. */
export function refusalMessage(reason: string, remedy: string): string {
  return `commands are refused: the sandbox is unavailable (${reason}). ${remedy}`;
}

/** Refuses every command, saying why and what the operator can do. */
export class RefusingSandbox implements Sandbox {
  readonly kind = 'refusing' as const;

  /**
   * `reason` is why the sandbox is unavailable (the probe's answer); `remedy` what an operator
   * can do about it. @default remedy {@link UNAVAILABLE_REMEDY}
   */
  constructor(
    readonly reason: string,
    readonly remedy: string = UNAVAILABLE_REMEDY,
  ) {}

  prepare(): Promise<PreparedCommand> {
    return Promise.reject(new SandboxError(SandboxErrorCodes.unavailable, refusalMessage(this.reason, this.remedy)));
  }

  enforcement(): LimitEnforcement[] {
    return [];
  }
}
