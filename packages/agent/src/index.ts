/**
 * `@maestro/agent`: what a tactical worker runs. A tool registry (each tool declared once with
 * a schema and a risk class; arguments validated by ajv, malformed JSON repaired; exported as
 * OpenAI `tools` and Gemini `functionDeclarations`; every failure an observation, never a
 * throw), the tools (`fs.read`, `fs.list`, `fs.search`, `fs.write`, `fs.edit`, `fs.apply_patch`,
 * `exec`, `git.status`, `git.diff`, `git.commit`) confined to the workspace, the agent loop that
 * runs a model against them until the repository's tests decide, and the output parsers that
 * turn a text reply into edits (SEARCH/REPLACE blocks, unified diffs, whole files) and tool
 * calls (JSON in the text) for models that do not use native tool calls. The loop keeps each
 * request inside the model's context budget with the condenser (`context/`): pinned facts kept
 * verbatim, older turns summarised, a `context.pin` tool for the agent. Also what preflight
 * shares with the loop: `failingTestNames` (the failing tests a run's output names, for the
 * baseline and the loop's test gate) and the registry of processes `runCommand` started
 * (`readPidRegistry`, `isSameLiveProcess`), by which orphans are found by pid, never by name.
 * Commands a model or a repository chose run in a sandbox (`sandbox/`: bubblewrap, or refused,
 * or explicitly unsandboxed), passed as the loop's `sandbox` option.
 *
 * @example
 * import { createDefaultToolRegistry, runAgentLoop } from '@maestro/agent';
 * const tools = createDefaultToolRegistry();
 * const verdict = await runAgentLoop({
 *   model,                                  // a ChatModel, e.g. over the router's Complete
 *   tools,
 *   workspace: '/repos/demo',
 *   task: 'Add a sum(a, b) function in sum.js',
 *   testCommand: ['node', '--test'],
 *   writeGuard: { acquire: async (concerns) => locks.acquire(concerns) },
 * });
 * verdict.status; // 'succeeded' | 'failed' | 'stuck' | 'budget_exhausted'
 *
 * // The same tools for a provider SDK, and back from its names:
 * tools.toOpenAiTools();                   // [{ type: 'function', function: { name: 'fs_read', … } }, …]
 * tools.toGeminiFunctionDeclarations();    // [{ name: 'fs_read', description, parameters }, …]
 * tools.resolveToolName('fs_read');        // 'fs.read'
 *
 * // Condensing is on by default (the model's policy, the rule summariser); memories go into the prompt:
 * await runAgentLoop({
 *   model, tools, workspace: '/repos/demo', task, testCommand: ['node', '--test'],
 *   context: { model: 'deepseek-chat', summariser: new ModelSummariser(model) },
 *   pinnedFiles: ['sum.js'],                 // files in scope: in every request, verbatim
 *   memories: recalled,                      // RecalledMemory[]: best first, within memoryTokenBudget (1500)
 *   onStep: (step) => publish(step),         // kinds model | tool | verdict | recall | condensation
 * });
 *
 * // A text reply with edit blocks instead of tool calls:
 * const found = extractEdits(reply, { knownPaths: ['sum.js'] });
 * if (!found.ok) tellModel(found.error.message);          // which block / line is malformed
 * else await applyReplyEdits('/repos/demo', found.value.edits, { writeGuard });
 */
export type { ChatModel, ChatModelRequest, ChatModelReply } from './chat-model.js';
export { scriptedChatModel, type ScriptedChatModel } from './scripted-chat-model.js';
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
export {
  toProviderToolName,
  createToolNameMap,
  toOpenAiTools,
  toGeminiFunctionDeclarations,
  toGeminiSchema,
  type ToolNameMap,
  type OpenAiTool,
  type GeminiFunctionDeclaration,
} from './provider-tools.js';
export { createDefaultToolRegistry, defaultTools } from './default-tool-registry.js';
export { fsReadTool } from './tools/fs-read-tool.js';
export { fsListTool } from './tools/fs-list-tool.js';
export { fsSearchTool } from './tools/fs-search-tool.js';
export { fsWriteTool } from './tools/fs-write-tool.js';
export { execTool, createExecTool } from './tools/exec-tool.js';
export { gitStatusTool } from './tools/git-status-tool.js';
export { gitDiffTool } from './tools/git-diff-tool.js';
export { gitCommitTool } from './tools/git-commit-tool.js';
export { fsEditTool } from './tools/fs-edit-tool.js';
export { fsApplyPatchTool } from './tools/fs-apply-patch-tool.js';
export { resolveWorkspacePath, type WorkspacePath, type ResolvePathOptions } from './workspace-path.js';
export {
  WorkspacePathErrorCodes,
  StepFlags,
  CI_REVIEW_NOTE,
  isGitDirName,
  isInGitDir,
  isCiConfigPath,
  ciConfigPaths,
  type WorkspacePathErrorCode,
  type StepFlag,
} from './protected-paths.js';
export { flagCiConfigChanges } from './ci-review-flag.js';
export { listWorkspaceFiles, type ListWorkspaceFilesOptions, type WorkspaceFiles } from './workspace-files.js';
export { runCommand, scrubEnvironment, type RunCommandOptions, type CommandResult } from './run-command.js';
export {
  SandboxErrorCodes,
  SandboxError,
  SandboxDefaults,
  resolveSandboxLimits,
  BubblewrapSandbox,
  BubblewrapDefaults,
  UnsandboxedRunner,
  RefusingSandbox,
  probeSandbox,
  createCommandSandbox,
  SandboxModes,
  type SandboxErrorCode,
  type Sandbox,
  type SandboxRequest,
  type PreparedCommand,
  type LimitEnforcement,
  type SandboxLimits,
  type BubblewrapSandboxOptions,
  type SandboxProbe,
  type SandboxMode,
  type CommandSandboxOptions,
  sandboxEnv,
  createSandboxFromSettings,
  parseSandboxReadPaths,
  type SandboxSettings,
} from './sandbox/index.js';
export {
  failingTestNames,
  TestOutputFormats,
  type FailingTestNamesOptions,
  type FailingTests,
  type TestOutputFormat,
} from './test-failures.js';
export {
  currentBootId,
  currentPidNamespace,
  findGitCommonDir,
  isSameLiveProcess,
  pidRegistryDir,
  processStartTicks,
  readPidRegistry,
  removeRegistryFile,
  type RecordedProcess,
  type RegistryEntry,
} from './pid-registry.js';
export {
  runAgentLoop,
  defaultSystemPrompt,
  DEFAULT_TEXT_EDIT_FORMATS,
  LoopDefaults,
  AgentStepKinds,
  type TextEditFormat,
  type RunAgentLoopOptions,
  type AgentContextOptions,
  type AgentBudget,
  type AgentStep,
  type AgentStepKind,
  type AgentVerdict,
  type RecoveredFrom,
} from './agent-loop.js';
export { PIN_TOOL_NAME, PIN_MAX_CHARS, PIN_MAX_FACTS } from './loop/pin-tool.js';
export { renderMemories, MEMORY_SECTION_TITLE, type MemoryPrompt } from './loop/memory-prompt.js';
export { isContextTooLong } from './loop/model-turn.js';
// Context condensing (the condenser, pinned facts, policies, summarisers): the list is curated in context/index.ts.
export * from './context/index.js';
export {
  extractTextToolCalls,
  TEXT_TOOL_CALL_EXAMPLE,
  type TextToolCall,
  type TextToolCalls,
  type ExtractTextToolCallsOptions,
} from './text-tool-calls.js';
export { repairJson, JsonRepairError, parseToolArguments, type ParsedToolArguments } from './json-repair/index.js';
export {
  extractEdits,
  applyReplyEdits,
  ReplyFormats,
  type ReplyFormat,
  type ReplyEdit,
  type PatchEdit,
  type ExtractedEdits,
  type ExtractEditsOptions,
  type ApplyReplyEditsOptions,
  type AppliedReplyEdits,
} from './edits/reply-edits.js';
export { EditErrorCodes, type EditErrorCode, type EditError, type EditResult } from './edits/edit-format-error.js';
export {
  parseSearchReplaceBlocks,
  findFilename,
  hasSearchReplaceMarkers,
  type SearchReplaceEdit,
  type ShellBlock,
  type SearchReplaceBlock,
  type SearchReplaceParseOptions,
} from './edits/search-replace-parser.js';
export {
  parseWholeFileBlocks,
  hasNamedFencedBlock,
  stripQuotedWrapping,
  previewWholeFileEdit,
  FilenameSources,
  type FilenameSource,
  type WholeFileEdit,
  type WholeFileParseOptions,
} from './edits/whole-file-parser.js';
export {
  parseUnifiedDiff,
  extractUnifiedDiffs,
  looksLikeUnifiedDiff,
  patchTargetPath,
  resolvePatchTargetPath,
  applyFilePatch,
  applyPatch,
  createUnifiedDiff,
  type DiffHunk,
  type FilePatch,
  type ParseDiffOptions,
  type PatchPathOptions,
  type ApplyPatchOptions,
  type HunkPlacement,
  type AppliedPatch,
} from './edits/unified-diff.js';
export {
  applySearchReplace,
  EditMethods,
  type EditMethod,
  type SearchReplaceInput,
  type AppliedEdit,
  type ApplySearchReplaceOptions,
} from './edits/apply-edit.js';
export {
  strReplace,
  createTextEditor,
  numberedLines,
  type StrReplaceResult,
  type TextEditor,
  type TextEditorCommand,
  type TextEditorResult,
  type TextEditorOptions,
} from './edits/str-replace.js';
export { editWorkspace, type EditWorkspaceOptions, type FileOutcome, type NewContent } from './edits/edit-workspace.js';
export { closestLines, findClosestWindow, type ClosestWindow, type ClosestLinesOptions } from './edits/closest-lines.js';
export { similarityRatio, closestMatch } from './edits/similarity-ratio.js';
export { fenceFor } from './edits/fence-line.js';
export {
  CommandPolicy,
  CommandPolicyErrorCodes,
  CommandPatternError,
  createCommandPolicy,
  defaultCommandPolicy,
  formatDenial,
  parseCommandPrefixes,
  toPrefixRules,
  DEFAULT_ALLOW_RULES,
  DEFAULT_DENY_RULES,
  type CommandDecision,
  type CommandPolicyErrorCode,
  type CommandPolicyOptions,
  type CommandRule,
} from './policy/index.js';
