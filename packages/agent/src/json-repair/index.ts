/**
 * JSON repair for what models write as tool-call arguments: `repairJson` turns almost-JSON
 * (single quotes, trailing commas, comments, truncation, code fences, Python constants,
 * unescaped quotes and newlines …) into valid JSON text, and `parseToolArguments` is the one
 * call the tool registry needs — strict `JSON.parse` first, repair second, and otherwise a
 * message for the model saying what was wrong and where.
 *
 * @example
 * import { parseToolArguments } from '@maestro/agent';
 * const parsed = parseToolArguments("{'path': 'src/a.ts', 'content': 'x',}");
 * if (parsed.ok) parsed.value; // { path: 'src/a.ts', content: 'x' }, parsed.repaired === true
 * else parsed.message;         // e.g. 'the arguments are not valid JSON: Colon expected at line 1, column 9: …'
 */
export { repairJson } from './repair-json.js';
export { JsonRepairError } from './json-repair-error.js';
export { parseToolArguments, type ParsedToolArguments } from './parse-tool-arguments.js';
