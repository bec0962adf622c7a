import { UserError } from '@maestro/runtime';

/**
 * Thrown by `repairJson` when the text cannot be turned into JSON (an object key missing, text
 * after the value, an invalid `\u` escape …); `problem` says what, `position` where (0-based
 * UTF-16 index into the input), so a caller can point the author at the spot.
 */
export class JsonRepairError extends UserError {
  /** What was wrong, without the position: `Colon expected`, `Unexpected character "{"`. */
  readonly problem: string;
  /** 0-based index into the input where the problem was found. */
  readonly position: number;

  constructor(problem: string, position: number) {
    super('JSON_REPAIR_FAILED', `${problem} at position ${position}`, { details: { position } });
    this.problem = problem;
    this.position = position;
  }
}
