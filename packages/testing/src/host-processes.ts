/**
 * The host's processes as `/proc` lists them, for tests that check nothing a command started
 * outlived it (a sandbox's daemon, a killed group's child).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Host pids whose command line has `argument` as one of its arguments. */
export function processesWithArgument(argument: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').includes(argument)) found.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}
