/**
 * `exec`: run a program in the workspace, after the command policy allowed it.
 */
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { runCommand } from '../run-command.js';
import { CommandPolicy, defaultCommandPolicy, formatDenial } from '../policy/index.js';
import { defineTool, type ToolDefinition } from '../tool-registry.js';
import { resolveWorkspacePath } from '../workspace-path.js';

/** Default and ceiling for one command when the context sets none. */
const DEFAULT_EXEC_TIMEOUT_MS = 120_000;

/**
 * Creates the `exec` tool over a command policy: a command the policy denies is never run, and
 * the agent gets an observation with the code (`COMMAND_DENIED`), the rule and the reason.
 * Runs `argv` without a shell (so nothing in it is interpreted), in a directory inside the
 * workspace, with an allow-listed environment (no credentials inherited), a timeout that kills
 * the whole process group, and capped output, inside the context's sandbox (the workspace its
 * only writable place): a sandbox that refuses the command is reported with its code
 * (`SANDBOX_UNAVAILABLE`), and an unsandboxed run carries its warning. `ok` is true only for
 * exit code 0.
 */
export function createExecTool(policy: CommandPolicy = defaultCommandPolicy): ToolDefinition {
  return defineTool({
    name: 'exec',
    description:
      'Run a program in the workspace, e.g. ["node", "--test"] or ["npm", "test"]. argv is passed as is, without a shell: no pipes, redirections or variable expansion. Commands pass a policy: read-only tools, test runners and build tools are allowed, anything else is refused with the reason. Returns the exit code and the combined output.',
    risk: 'exec',
    input: z
      .object({
        argv: z.array(z.string()).min(1).describe('program and arguments'),
        cwd: z.string().min(1).default('.').describe('working directory relative to the workspace root'),
        timeoutMs: z.number().int().positive().optional().describe('kill the command after this many milliseconds'),
      })
      .strict(),
    async run({ argv, cwd, timeoutMs }, { workspace, signal, execTimeoutMs, env, sandbox, worktree }) {
      if ((argv[0] ?? '') === '') return { ok: false, output: 'invalid arguments for exec: argv[0]: the program name must not be empty' };
      const decision = policy.evaluate(argv);
      if (decision.decision === 'deny') return { ok: false, output: `${formatDenial(decision)}. The command was not run.` };
      const dir = resolveWorkspacePath(workspace, cwd);
      const info = await stat(dir.absolute).catch(() => undefined);
      if (!info?.isDirectory()) return { ok: false, output: `cwd ${dir.relative} is not a directory of the workspace` };
      const ceiling = execTimeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
      const limit = Math.min(timeoutMs ?? ceiling, ceiling);
      const result = await runCommand(argv, {
        cwd: dir.absolute,
        worktree: worktree ?? workspace,
        timeoutMs: limit,
        ...(signal ? { signal } : {}),
        ...(env ? { env } : {}),
        ...(sandbox ? { sandbox } : {}),
      });
      if (result.refusal !== undefined) return { ok: false, output: `refused (${result.refusal.code}): ${result.refusal.message} The command was not run.` };
      if (result.spawnError !== undefined) {
        return { ok: false, output: `could not start ${JSON.stringify(argv[0])}: ${result.spawnError}` };
      }
      const status = result.stopped !== undefined
        ? `${result.stopped.message} (${result.stopped.code}); the process group was killed`
        : result.timedOut
        ? `timed out after ${limit} ms; the process group was killed`
        : result.aborted
          ? 'cancelled; the process group was killed'
          : result.exitCode === null
            ? `killed by ${result.signal ?? 'a signal'}`
            : `exit code ${result.exitCode}`;
      const notice = result.sandboxNotice !== undefined ? `\n${result.sandboxNotice}` : '';
      return {
        ok: result.exitCode === 0 && !result.timedOut && !result.aborted,
        output: result.output === '' ? `${status} (no output)${notice}` : `${status}${notice}\n${result.output}`,
      };
    },
  });
}

/** The `exec` tool under the default command policy. */
export const execTool = createExecTool();
