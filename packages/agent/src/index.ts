/**
 * `@maestro/agent`: what a tactical worker runs. A tool registry (each tool declared once with
 * a schema and a risk class; every failure an observation, never a throw), the issue-2 tools
 * (`fs.read`, `fs.list`, `fs.write`, `exec`, `git.commit`) confined to the workspace, and the
 * agent loop that runs a model against them until the repository's tests decide.
 *
 * @example
 * import { createDefaultToolRegistry, runAgentLoop } from '@maestro/agent';
 * const verdict = await runAgentLoop({
 *   model,                                  // a ChatModel, e.g. over the router's Complete
 *   tools: createDefaultToolRegistry(),
 *   workspace: '/repos/demo',
 *   task: 'Add a sum(a, b) function in sum.js',
 *   testCommand: ['node', '--test'],
 *   writeGuard: { acquire: async (concerns) => locks.acquire(concerns) },
 * });
 * verdict.status; // 'succeeded' | 'failed' | 'stuck' | 'budget_exhausted'
 */
export type { ChatModel, ChatModelRequest, ChatModelReply } from './chat-model.js';
export { Concerns, type WriteGuard } from './write-guard.js';
export {
  ToolRisks,
  defineTool,
  createToolRegistry,
  type ToolRisk,
  type ToolContext,
  type ToolEffects,
  type ToolObservation,
  type ToolDefinition,
  type ToolRegistry,
} from './tool-registry.js';
export { createDefaultToolRegistry, defaultTools } from './default-tool-registry.js';
export { fsReadTool } from './tools/fs-read-tool.js';
export { fsListTool } from './tools/fs-list-tool.js';
export { fsWriteTool } from './tools/fs-write-tool.js';
export { execTool } from './tools/exec-tool.js';
export { gitCommitTool } from './tools/git-commit-tool.js';
export { resolveWorkspacePath, type WorkspacePath, type ResolvePathOptions } from './workspace-path.js';
export { runCommand, scrubEnvironment, type RunCommandOptions, type CommandResult } from './run-command.js';
export {
  runAgentLoop,
  type RunAgentLoopOptions,
  type AgentBudget,
  type AgentStep,
  type AgentVerdict,
} from './agent-loop.js';
