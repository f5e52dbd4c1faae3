// Reading a Trainer's options: the object is read once into plain data, every key is known, and
// every number lies in its domain, before the Trainer reserves any memory.
import { ConfigError, describe } from '../errors.js';
import { resolveLoss, type ResolvedLoss } from '../model/loss.js';
import { checkKeys, checkNumber, DOMAINS, inDomain, optionalNumber, snapshotObject, type ArgumentErrorClass } from '../validate/index.js';
import { resolveOptimizer, type OptimizerName, type OptimizerSpec, type ResolvedOptimizer } from './optimizers.js';
import { makeSchedule, type Schedule, type ScheduleSpec } from './schedules.js';
import type { TrainerOptions } from './trainer.js';

export const TRAINER_KEYS: readonly string[] = [
  'loss',
  'optimizer',
  'schedule',
  'clipNorm',
  'clipValue',
  'clipHiddenNorm',
  'onNonFinite',
  'tbptt',
];
export const LOSS_KEYS: readonly string[] = ['loss', 'at', 'reduction', 'classWeights'];

export interface ResolvedTrainerOptions {
  loss: ResolvedLoss;
  optimizer: ResolvedOptimizer;
  /** the spec as given (a snapshot), for the Optimizer */
  optimizerSpec: OptimizerSpec | OptimizerName;
  schedule: Schedule;
  scheduleSpec: ScheduleSpec | undefined;
  clipNorm: number;
  clipValue: number;
  /** per-timestep clipping threshold θ; 0 = off */
  clipHiddenNorm: number;
  onNonFinite: 'skip' | 'throw';
  k1: number;
  k2: number;
}

/**
 * Every option of a Trainer checked. `argument` names the object in errors ('options' for the
 * API); `E` is the error class. The options are snapshotted first, so a getter or Proxy is read
 * once and nothing the caller changes later reaches the Trainer.
 */
export function resolveTrainerOptions(
  options: TrainerOptions,
  argument = 'options',
  E: ArgumentErrorClass = ConfigError,
  inputsPerStep = 1,
  classes?: number,
): ResolvedTrainerOptions {
  const o = snapshotObject(argument, options, 'an object { loss, optimizer?, clipNorm? }', { ErrorClass: E });
  if (o === undefined) throw new E(argument, 'an object { loss, optimizer?, clipNorm? }', 'undefined');
  const keyError = E === ConfigError ? undefined : E;
  checkKeys(argument, o, TRAINER_KEYS, keyError);
  const lossSpec = o.loss;
  if (lossSpec !== null && typeof lossSpec === 'object' && !Array.isArray(lossSpec))
    checkKeys(`${argument}.loss`, lossSpec, LOSS_KEYS, keyError);
  const loss = resolveLoss(lossSpec as TrainerOptions['loss'], `${argument}.loss`, classes);
  const clipNorm = optionalNumber(`${argument}.clipNorm`, o.clipNorm, DOMAINS.clipNorm, Infinity, E);
  const clipValue = optionalNumber(`${argument}.clipValue`, o.clipValue, DOMAINS.clipValue, Infinity, E);
  const clipHiddenNorm = optionalNumber(`${argument}.clipHiddenNorm`, o.clipHiddenNorm, DOMAINS.clipHiddenNorm, 0, E);
  const onNonFinite = o.onNonFinite ?? 'skip';
  if (onNonFinite !== 'skip' && onNonFinite !== 'throw') throw new E(`${argument}.onNonFinite`, '"skip" or "throw"', describe(onNonFinite));
  const scheduleSpec = o.schedule as ScheduleSpec | undefined;
  const schedule = makeSchedule(scheduleSpec, 'schedule', E);
  let k1 = 0,
    k2 = 0;
  const t = o.tbptt;
  if (t !== undefined) {
    if (t === null || typeof t !== 'object' || Array.isArray(t))
      throw new E(`${argument}.tbptt`, '{ k1, k2 } with 1 ≤ k1 ≤ k2', describe(t));
    checkKeys(`${argument}.tbptt`, t, ['k1', 'k2'], keyError);
    const r = t as Record<string, unknown>;
    k1 = checkNumber(`${argument}.tbptt.k1`, r.k1, DOMAINS.k1, E);
    k2 = checkNumber(`${argument}.tbptt.k2`, r.k2, { ...DOMAINS.k2, min: k1 }, E);
    // the history of k2 − k1 steps must fit one block already for a batch of one sequence
    if (!inDomain((k2 - k1) * inputsPerStep, DOMAINS.historyFloats)) {
      throw new E(
        `${argument}.tbptt.k2`,
        `k2 − k1 steps of history × ${inputsPerStep} inputs per step within ${DOMAINS.historyFloats.max} floats`,
        `k1 ${k1}, k2 ${k2}`,
      );
    }
    if (k2 > k1 && loss.at !== 'every')
      throw new E(`${argument}.tbptt`, 'k2 = k1 for a loss at the last step (older steps carry no loss)', `k1 ${k1}, k2 ${k2}`);
  }
  const optimizerSpec = (o.optimizer ?? 'adam') as OptimizerSpec | OptimizerName;
  const optimizer = resolveOptimizer(optimizerSpec, 'optimizer', E);
  return { loss, optimizer, optimizerSpec, schedule, scheduleSpec, clipNorm, clipValue, clipHiddenNorm, onNonFinite, k1, k2 };
}
