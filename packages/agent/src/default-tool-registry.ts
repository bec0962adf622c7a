/**
 * The default tool set, in one registry.
 */
import { createToolRegistry, type ToolRegistry } from './tool-registry.js';
import { execTool } from './tools/exec-tool.js';
import { fsApplyPatchTool } from './tools/fs-apply-patch-tool.js';
import { fsEditTool } from './tools/fs-edit-tool.js';
import { fsListTool } from './tools/fs-list-tool.js';
import { fsReadTool } from './tools/fs-read-tool.js';
import { fsWriteTool } from './tools/fs-write-tool.js';
import { gitCommitTool } from './tools/git-commit-tool.js';

/**
 * The tools every tactical agent gets: `fs.read`, `fs.list`, `fs.write`, `fs.edit`,
 * `fs.apply_patch`, `exec`, `git.commit`.
 */
export const defaultTools = [fsReadTool, fsListTool, fsWriteTool, fsEditTool, fsApplyPatchTool, execTool, gitCommitTool] as const;

/** A registry of {@link defaultTools}. */
export function createDefaultToolRegistry(): ToolRegistry {
  return createToolRegistry(defaultTools);
}
