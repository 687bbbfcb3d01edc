/**
 * What the CLI's list and report need from run.json before they print or draw it: the run's id,
 * name, status, epochs and model, with the right types. A run.json written by hand or by another
 * tool may pass as JSON and still lack them (`config: {}`, a numeric id); such a run is shown as
 * unreadable with the field at fault, never as `undefined` or a TypeError.
 */
import { RUN_STATUSES, type RunInfo } from '../shared/run';

/** The first field of run.json the CLI cannot use, in words; undefined when all are usable. */
export function runInfoProblem(info: RunInfo): string | undefined {
  const v = info as unknown as Record<string, unknown>;
  const config = v.config as Record<string, unknown> | null | undefined;
  const checks: [string, unknown, (x: unknown) => boolean, string][] = [
    ['id', v.id, (x) => typeof x === 'string' && x.trim() !== '', 'a non-empty string'],
    ['name', v.name, (x) => typeof x === 'string', 'a string'],
    ['status', v.status, (x) => typeof x === 'string' && (RUN_STATUSES as readonly string[]).includes(x), `one of ${RUN_STATUSES.join(', ')}`],
    ['epochsCompleted', v.epochsCompleted, (x) => Number.isInteger(x) && (x as number) >= 0, 'a whole number ≥ 0'],
    ['config', config, (x) => typeof x === 'object' && x !== null && !Array.isArray(x), 'an object'],
    ['config.epochs', config?.epochs, (x) => Number.isInteger(x) && (x as number) >= 1, 'a whole number ≥ 1'],
    ['config.model', config?.model, (x) => typeof x === 'string', 'a model name'],
    ['config.dimz', config?.dimz, (x) => Number.isInteger(x) && (x as number) >= 1, 'a whole number ≥ 1'],
  ];
  for (const [field, value, ok, expected] of checks) {
    if (!ok(value)) return `field ${field} is ${value === undefined ? 'missing' : JSON.stringify(value)}, expected ${expected}`;
  }
  return undefined;
}
