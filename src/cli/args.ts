// Flag parsing shared by the commands: node:util parseArgs, with every mistake turned into one
// readable line (a UsageError) that names the flag, what it expects and what it got.
import { parseArgs } from 'node:util';
import type { ScheduleSpec } from '../train/schedules.js';

/** A mistake of the user: one line on stderr, exit code 2. */
export class UsageError extends Error {}

/** A failure of the environment (e.g. a disk that is full): one line on stderr, exit code 1. */
export class EnvironmentError extends Error {}

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  /** Flags the user wrote (by long name). */
  given: Set<string>;
}

/** Parses `args` against `options`; `positionals` is how many positional arguments the command takes. */
export function parse(command: string, args: string[], options: OptionSpec, positionals = 0): Parsed {
  let values: Record<string, string | boolean | undefined>;
  let pos: string[];
  try {
    ({ values, positionals: pos } = parseArgs({ args, options, strict: true, allowPositionals: positionals > 0 }) as {
      values: Record<string, string | boolean | undefined>; positionals: string[];
    });
  } catch (e) {
    throw new UsageError(`${command}: ${parseError(e)} (see unrolled ${command} --help)`);
  }
  if (pos.length > positionals && !values.help) throw new UsageError(`${command}: unexpected argument ${pos[positionals]} (see unrolled ${command} --help)`);
  const given = new Set(Object.keys(values).filter((k) => values[k] !== undefined));
  return { values, positionals: pos, given };
}

/** One line from node:util parseArgs' error (its messages can run to several sentences). */
export function parseError(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const name = /'(-[^' ]*)/.exec(err.message ?? '')?.[1];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': return `unknown option ${name ?? ''}`.trim();
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': return `unexpected argument ${/'([^']*)'/.exec(err.message ?? '')?.[1] ?? ''}`.trim();
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take/.test(err.message ?? '')) return `option ${name} takes no value`;
      if (/ambiguous/.test(err.message ?? '')) return `option ${name}: write a value that starts with "-" as ${name}=VALUE`;
      return `option ${name} needs a value`;
    default: return (err.message ?? String(e)).split('\n')[0];
  }
}

/** Typed readers of flag values; each throws a UsageError naming the command and flag. */
export class Flags {
  constructor(readonly command: string, readonly p: Parsed) {}

  has(flag: string): boolean { return this.p.given.has(flag); }

  str(flag: string): string | undefined {
    const v = this.p.values[flag];
    return typeof v === 'string' ? v : undefined;
  }

  bool(flag: string): boolean { return this.p.values[flag] === true; }

  fail(message: string): never {
    throw new UsageError(`${this.command}: ${message}`);
  }

  choice<T extends string>(flag: string, options: readonly T[], fallback: T): T {
    const v = this.str(flag);
    if (v === undefined) return fallback;
    if (!options.includes(v as T)) this.fail(`--${flag}: expected one of ${options.join(', ')}, got "${v}"`);
    return v as T;
  }

  int(flag: string, fallback: number, min: number, max: number): number {
    const v = this.str(flag);
    if (v === undefined) return fallback;
    const n = /^\+?\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) this.fail(`--${flag}: expected an integer in [${min}, ${max}], got "${v}"`);
    return n;
  }

  float(flag: string, fallback: number, min: number, max: number, minOpen: boolean): number {
    const v = this.str(flag);
    if (v === undefined) return fallback;
    const n = v.trim() === '' ? NaN : Number(v);
    if (!Number.isFinite(n) || (minOpen ? n <= min : n < min) || n > max) {
      this.fail(`--${flag}: expected a number ${minOpen ? '>' : '>='} ${min}${max < 1e12 ? ` and <= ${max}` : ''}, got "${v}"`);
    }
    return n;
  }

  /** A file name (non-empty). */
  file(flag: string): string | undefined {
    const v = this.str(flag);
    if (v !== undefined && v.trim() === '') this.fail(`--${flag} needs a file name`);
    return v;
  }
}

/** `--tbptt k1,k2` (or a single k for k1 = k2). */
export function parseTbptt(f: Flags, flag: string): { k1: number; k2: number } | undefined {
  const v = f.str(flag);
  if (v === undefined) return undefined;
  const m = /^\s*(\d+)\s*(?:,\s*(\d+)\s*)?$/.exec(v);
  const k1 = m ? Number(m[1]) : NaN, k2 = m ? Number(m[2] ?? m[1]) : NaN;
  if (!m || !(k1 >= 1) || !(k2 >= k1) || k2 > 1 << 20) f.fail(`--${flag}: expected k1,k2 with 1 <= k1 <= k2 (e.g. 32,64), got "${v}"`);
  return { k1, k2 };
}

/**
 * `--schedule KIND[:key=value,...]`:
 *   constant | step:size=N[,gamma=G] | exponential:gamma=G | cosine[:total=N,min=F]
 * and warmup=N with any of them. cosine's total defaults to the number of steps.
 */
export function parseSchedule(f: Flags, flag: string, steps: number): ScheduleSpec | undefined {
  const v = f.str(flag);
  if (v === undefined) return undefined;
  const usage = 'constant, step:size=N[,gamma=G], exponential:gamma=G or cosine[:total=N,min=F], each with an optional warmup=N';
  const [kind, rest = ''] = v.split(/:(.*)/s, 2);
  const kv = new Map<string, string>();
  for (const part of rest.split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
    const m = /^([a-z]+)=(.+)$/.exec(part);
    if (!m) f.fail(`--${flag}: cannot read "${part}" (expected key=value; the schedules are ${usage})`);
    if (kv.has(m[1])) f.fail(`--${flag}: "${m[1]}" is given twice`);
    kv.set(m[1], m[2]);
  }
  const allowed: Record<string, string[]> = {
    constant: ['warmup'], step: ['size', 'gamma', 'warmup'], exponential: ['gamma', 'warmup'], cosine: ['total', 'min', 'warmup'],
  };
  if (!Object.prototype.hasOwnProperty.call(allowed, kind)) f.fail(`--${flag}: unknown schedule "${kind}" (expected ${usage})`);
  for (const k of kv.keys()) if (!allowed[kind].includes(k)) f.fail(`--${flag}: ${kind} takes ${allowed[kind].join(', ')}, not "${k}"`);
  const num = (k: string, lo: number, hi: number, integer: boolean): number | undefined => {
    const s = kv.get(k);
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isFinite(n) || n < lo || n > hi || (integer && !Number.isInteger(n))) {
      f.fail(`--${flag}: ${k} expects ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}], got "${s}"`);
    }
    return n;
  };
  const warmup = num('warmup', 0, 1e9, true);
  const w = warmup ? { warmup } : {};
  switch (kind) {
    case 'constant': return { kind: 'constant', ...w };
    case 'step': {
      const stepSize = num('size', 1, 1e9, true);
      if (stepSize === undefined) f.fail(`--${flag}: step needs size=N (e.g. step:size=1000,gamma=0.5)`);
      const gamma = num('gamma', 0, 1, false);
      return { kind: 'step', stepSize, ...(gamma !== undefined ? { gamma } : {}), ...w };
    }
    case 'exponential': {
      const gamma = num('gamma', 0, 1, false);
      if (gamma === undefined) f.fail(`--${flag}: exponential needs gamma=G (e.g. exponential:gamma=0.999)`);
      return { kind: 'exponential', gamma, ...w };
    }
    default: {
      const total = num('total', 1, 1e12, true) ?? steps;
      const minFactor = num('min', 0, 1, false);
      return { kind: 'cosine', total, ...(minFactor !== undefined ? { minFactor } : {}), ...w };
    }
  }
}

/**
 * `--diagnose` may stand alone (every --every steps) or take N: rewrites a bare `--diagnose` to
 * `--diagnose=0` (0 meaning "as often as --every").
 */
export function normaliseOptionalValue(args: string[], flag: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') { out.push(...args.slice(i)); break; }
    if (a === `--${flag}` && !(i + 1 < args.length && /^\d+$/.test(args[i + 1]))) out.push(`--${flag}=0`);
    else out.push(a);
  }
  return out;
}
