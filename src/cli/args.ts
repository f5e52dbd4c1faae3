// Flag parsing shared by the commands: node:util parseArgs over the flag table (flags.ts), with
// every mistake turned into one readable line (a UsageError) that names the flag, what it expects
// and what it got. Stricter than parseArgs alone: a flag given twice is refused (not "the last one
// wins"), numbers must be written in decimal (0x10, 1_000, Infinity and " 5" are refused; 1e-3 is
// fine), and an unknown flag names the nearest valid one.
import { parseArgs } from 'node:util';
import type { ScheduleSpec } from '../train/schedules.js';
import { DOMAINS, checkNumber, inDomain, nearestKey, renderDomain, type ArgumentErrorClass, type NumberDomain } from '../validate/index.js';
import { COMMAND_FLAGS, FLAGS, commandFlagNames, flagFor, type Command, type FlagName } from './flags.js';
import type { CliIO } from './output.js';
import { UsageError } from './usage.js';

export { EnvironmentError, UsageError } from './usage.js';

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  /** Flags the user wrote (by long name). */
  given: Set<string>;
}

/** Parses `args` for `command`; `positionals` is how many positional arguments the command takes. */
export function parse(command: Command, args: string[], positionals = 0): Parsed {
  const names = commandFlagNames(command);
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const n of names) {
    const d = FLAGS[n] as { kind: string; short?: string };
    options[n] = { type: d.kind === 'boolean' ? 'boolean' : 'string', ...(d.short ? { short: d.short } : {}) };
  }
  let result: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; strict: true; allowPositionals: true; tokens: true }>>;
  try {
    result = parseArgs({ args, options, strict: true, allowPositionals: true, tokens: true });
  } catch (e) {
    throw new UsageError(`${command}: ${parseError(e, command, names)} (see unrolled ${command} --help)`);
  }
  const values = result.values as Record<string, string | boolean | undefined>;
  const seen = new Map<string, string>();
  for (const t of result.tokens) {
    if (t.kind !== 'option' || t.name === 'help') continue;
    const shown = t.value === undefined ? t.rawName : `${t.rawName} ${t.value}`;
    const before = seen.get(t.name);
    if (before !== undefined)
      throw new UsageError(`${command}: --${t.name} is given twice (${before}, then ${shown}); give it once`, `--${t.name}`);
    seen.set(t.name, shown);
  }
  const pos = result.positionals;
  if (pos.length > positionals && !values.help)
    throw new UsageError(`${command}: unexpected argument ${pos[positionals]} (see unrolled ${command} --help)`);
  const refused = COMMAND_FLAGS[command].refused ?? {};
  if (!values.help) {
    for (const [flag, why] of Object.entries(refused))
      if (values[flag] !== undefined)
        throw new UsageError(`${command}: --${flag} ${why.startsWith('use ') ? `is not a flag of ${command}: ${why}` : why}`, `--${flag}`);
  }
  const given = new Set(Object.keys(values).filter((k) => values[k] !== undefined));
  return { values, positionals: pos, given };
}

/**
 * How every command starts: parses `args` for `command` and returns the typed readers of its
 * flags, or prints `help` and returns undefined when --help was given (the command then exits 0).
 */
export function commandFlags(command: Command, args: string[], io: Pick<CliIO, 'out'>, help: string, positionals = 0): Flags | undefined {
  const p = parse(command, args, positionals);
  if (!p.values.help) return new Flags(command, p);
  io.out(help);
  return undefined;
}

/** The flags of the other commands, to tell "not here" from "no such flag". */
function otherCommandsWith(flag: string, command: Command): Command[] {
  return (Object.keys(COMMAND_FLAGS) as Command[]).filter(
    (c) => c !== command && commandFlagNames(c).includes(flag as FlagName) && !COMMAND_FLAGS[c].refused?.[flag as FlagName],
  );
}

/** One line from node:util parseArgs' error (its messages can run to several sentences). */
export function parseError(e: unknown, command?: Command, names: readonly string[] = []): string {
  const err = e as { code?: string; message?: string };
  const name = /'(-[^' ]*)/.exec(err.message ?? '')?.[1];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const raw = name ?? '';
      const bare = raw.replace(/^-+/, '').split('=')[0];
      // a single-dash option is one letter: too short to guess from
      const near = raw.startsWith('--') && bare.length > 0 ? nearestKey(bare, names) : undefined;
      const elsewhere = command ? otherCommandsWith(bare, command) : [];
      const other = elsewhere.length
        ? `--${bare} is a flag of ${elsewhere.map((c) => `unrolled ${c}`).join(' and ')}, not of ${command}`
        : '';
      const hint =
        near !== undefined
          ? ` (did you mean --${near}?${other ? ` ${other}` : ''})`
          : other
            ? ` (${other.replace(/^--\S+ is/, 'it is')})`
            : '';
      return `unknown option ${JSON.stringify(raw).slice(1, -1)}${hint}`.trim();
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${/'([^']*)'/.exec(err.message ?? '')?.[1] ?? ''}`.trim();
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take/.test(err.message ?? '')) return `option ${name} takes no value`;
      if (/ambiguous/.test(err.message ?? '')) return `option ${name}: write a value that starts with "-" as ${name}=VALUE`;
      return `option ${name} needs a value`;
    default:
      return (err.message ?? String(e)).split('\n')[0];
  }
}

/** A decimal number as people write it: 42, -1.5, .5, 2e-3 (not 0x10, 0b1, 1_000, Infinity, " 5"). */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The decimal number `text` means, or NaN. */
export function decimal(text: string): number {
  return DECIMAL.test(text) ? Number(text) : NaN;
}

/** An error class for checkNumber that names the command and shows the value as it was written. */
function flagErrorClass(command: string, raw: string, hint: string): ArgumentErrorClass {
  return class FlagValueError extends UsageError {
    constructor(argument: string, expected: string, _actual: string) {
      super(`${command}: ${argument}: expected ${expected}${hint}, got ${JSON.stringify(raw)}`, argument);
    }
  };
}

/** Checks the decimal `raw` against `domain`; a UsageError names `argument` (e.g. --lr, or --schedule's gamma). */
export function checkDecimal(command: string, argument: string, raw: string, domain: Readonly<NumberDomain>): number {
  const n = decimal(raw);
  const hint = Number.isNaN(n) ? ' (written in decimal, e.g. 42, 0.002 or 2e-3)' : '';
  return checkNumber(argument, n, domain, flagErrorClass(command, raw, hint));
}

/** Typed readers of flag values, by the table's kinds and domains; each throws a UsageError naming the command and flag. */
export class Flags {
  constructor(
    readonly command: Command,
    readonly p: Parsed,
  ) {}

  has(flag: FlagName): boolean {
    return this.p.given.has(flag);
  }

  str(flag: FlagName): string | undefined {
    const v = this.p.values[flag];
    return typeof v === 'string' ? v : undefined;
  }

  bool(flag: FlagName): boolean {
    return this.p.values[flag] === true;
  }

  /** Positional argument `index`; `question` is the usage error when it is missing. */
  positional(index: number, question: string): string {
    const v = this.p.positionals[index];
    if (v === undefined) this.fail(question);
    return v;
  }

  fail(message: string, argument?: string): never {
    throw new UsageError(`${this.command}: ${message}`, argument);
  }

  private fallback<T>(flag: FlagName, given: T | undefined): T {
    const v = given ?? (flagFor(this.command, flag).default as T | undefined);
    if (v === undefined) throw new Error(`--${flag} has no default for ${this.command}`);
    return v;
  }

  choice<T extends string>(flag: FlagName, fallback?: T): T {
    const v = this.str(flag);
    const options = flagFor(this.command, flag).choices!;
    if (v === undefined) return this.fallback(flag, fallback);
    if (!options.includes(v)) this.fail(`--${flag}: expected one of ${options.join(', ')}, got ${JSON.stringify(v)}`, `--${flag}`);
    return v as T;
  }

  /** An integer flag; `domain` narrows the table's (e.g. a task's shortest sequence). */
  int(flag: FlagName, fallback?: number, domain?: Partial<NumberDomain>): number {
    return this.number(flag, fallback, domain);
  }

  float(flag: FlagName, fallback?: number): number {
    return this.number(flag, fallback);
  }

  private number(flag: FlagName, fallback?: number, narrow?: Partial<NumberDomain>): number {
    const v = this.str(flag);
    if (v === undefined) return this.fallback(flag, fallback);
    const def = flagFor(this.command, flag);
    const domain = { ...def.domain!, ...(def.kind === 'int' ? { integer: true } : {}), ...narrow };
    return checkDecimal(this.command, `--${flag}`, v, domain);
  }

  /** A file name (non-empty). */
  file(flag: FlagName): string | undefined {
    const v = this.str(flag);
    if (v !== undefined && v.trim() === '') this.fail(`--${flag} needs a file name`, `--${flag}`);
    if (v?.includes('\0')) this.fail(`--${flag}: a file name cannot contain a NUL character`, `--${flag}`);
    return v;
  }
}

/** `--tbptt k1,k2` (or a single k for k1 = k2). */
export function parseTbptt(f: Flags, flag: FlagName): { k1: number; k2: number } | undefined {
  const v = f.str(flag);
  if (v === undefined) return undefined;
  const m = /^(\d+)(?:,(\d+))?$/.exec(v.replace(/\s+/g, ''));
  const k1 = m ? Number(m[1]) : NaN,
    k2 = m ? Number(m[2] ?? m[1]) : NaN;
  const range = `${renderDomain(DOMAINS.k1).replace(/^an integer /, '')}`;
  if (!m || !(k1 >= 1) || !(k2 >= k1) || k2 > DOMAINS.k2.max!)
    f.fail(`--${flag}: expected k1,k2 with 1 <= k1 <= k2, each ${range} (e.g. 32,64), got ${JSON.stringify(v)}`, `--${flag}`);
  return { k1, k2 };
}

/**
 * `--schedule KIND[:key=value,...]`:
 *   constant | step:size=N[,gamma=G] | exponential:gamma=G | cosine[:total=N,min=F]
 * and warmup=N with any of them. cosine's total defaults to the number of steps.
 */
export function parseSchedule(f: Flags, flag: FlagName, steps: number): ScheduleSpec | undefined {
  const v = f.str(flag);
  if (v === undefined) return undefined;
  const usage = 'constant, step:size=N[,gamma=G], exponential:gamma=G or cosine[:total=N,min=F], each with an optional warmup=N';
  const [kind, rest = ''] = v.split(/:(.*)/s, 2);
  const kv = new Map<string, string>();
  for (const part of rest
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)) {
    const m = /^([a-z]+)=(.+)$/.exec(part);
    if (!m) f.fail(`--${flag}: cannot read ${JSON.stringify(part)} (expected key=value; the schedules are ${usage})`, `--${flag}`);
    if (kv.has(m[1])) f.fail(`--${flag}: "${m[1]}" is given twice`, `--${flag}`);
    kv.set(m[1], m[2]);
  }
  const allowed: Record<string, string[]> = {
    constant: ['warmup'],
    step: ['size', 'gamma', 'warmup'],
    exponential: ['gamma', 'warmup'],
    cosine: ['total', 'min', 'warmup'],
  };
  if (!Object.hasOwn(allowed, kind)) f.fail(`--${flag}: unknown schedule ${JSON.stringify(kind)} (expected ${usage})`, `--${flag}`);
  for (const k of kv.keys()) {
    if (!allowed[kind].includes(k)) {
      const near = nearestKey(k, allowed[kind]);
      f.fail(`--${flag}: ${kind} takes ${allowed[kind].join(', ')}, not "${k}"${near ? ` (did you mean ${near}?)` : ''}`, `--${flag}`);
    }
  }
  const num = (k: string, domain: Readonly<NumberDomain>): number | undefined => {
    const s = kv.get(k);
    if (s === undefined) return undefined;
    const n = decimal(s);
    if (Number.isNaN(n) || !inDomain(n, domain))
      f.fail(
        `--${flag}: ${k} expects ${renderDomain(domain)}${Number.isNaN(n) ? ' (written in decimal)' : ''}, got ${JSON.stringify(s)}`,
        `--${flag}`,
      );
    return n;
  };
  const warmup = num('warmup', DOMAINS.warmup);
  const w = warmup ? { warmup } : {};
  switch (kind) {
    case 'constant':
      return { kind: 'constant', ...w };
    case 'step': {
      const stepSize = num('size', DOMAINS.stepSize);
      if (stepSize === undefined) f.fail(`--${flag}: step needs size=N (e.g. step:size=1000,gamma=0.5)`, `--${flag}`);
      const gamma = num('gamma', DOMAINS.gamma);
      return { kind: 'step', stepSize, ...(gamma !== undefined ? { gamma } : {}), ...w };
    }
    case 'exponential': {
      const gamma = num('gamma', DOMAINS.gamma);
      if (gamma === undefined) f.fail(`--${flag}: exponential needs gamma=G (e.g. exponential:gamma=0.999)`, `--${flag}`);
      return { kind: 'exponential', gamma, ...w };
    }
    default: {
      const total = num('total', DOMAINS.total) ?? steps;
      const minFactor = num('min', DOMAINS.minFactor);
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
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    if (a === `--${flag}` && !(i + 1 < args.length && DECIMAL.test(args[i + 1]) && !/^[+-]/.test(args[i + 1]))) out.push(`--${flag}=0`);
    else out.push(a);
  }
  return out;
}
