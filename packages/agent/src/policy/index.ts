/**
 * The command policy: which argvs an agent's `exec` and a task's `testCommand` may run.
 */
export {
  CommandPolicy,
  CommandPolicyErrorCodes,
  createCommandPolicy,
  defaultCommandPolicy,
  formatDenial,
  type CommandDecision,
  type CommandPolicyErrorCode,
  type CommandPolicyOptions,
} from './command-policy.js';
export { DEFAULT_ALLOW_RULES, DEFAULT_DENY_RULES, type CommandRule } from './command-rules.js';
export { CommandPatternError, parseCommandPrefixes, toPrefixRules } from './command-prefixes.js';
export { splitShellScript, type ShellScript } from './shell-script.js';
