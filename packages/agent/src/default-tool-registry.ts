/**
 * The default tool set, in one registry.
 */
import { createToolRegistry, type ToolRegistry } from './tool-registry.js';
import { execTool } from './tools/exec-tool.js';
import { fsApplyPatchTool } from './tools/fs-apply-patch-tool.js';
import { fsEditTool } from './tools/fs-edit-tool.js';
import { fsListTool } from './tools/fs-list-tool.js';
import { fsReadTool } from './tools/fs-read-tool.js';
import { fsSearchTool } from './tools/fs-search-tool.js';
import { fsWriteTool } from './tools/fs-write-tool.js';
import { gitCommitTool } from './tools/git-commit-tool.js';
import { gitDiffTool } from './tools/git-diff-tool.js';
import { gitStatusTool } from './tools/git-status-tool.js';

/**
 * The tools every tactical agent gets: `fs.read`, `fs.list`, `fs.search`, `fs.write`,
 * `fs.edit`, `fs.apply_patch`, `exec`, `git.status`, `git.diff`, `git.commit`.
 */
export const defaultTools = [
  fsReadTool,
  fsListTool,
  fsSearchTool,
  fsWriteTool,
  fsEditTool,
  fsApplyPatchTool,
  execTool,
  gitStatusTool,
  gitDiffTool,
  gitCommitTool,
] as const;

/** A registry of {@link defaultTools}. */
export function createDefaultToolRegistry(): ToolRegistry {
  return createToolRegistry(defaultTools);
}
