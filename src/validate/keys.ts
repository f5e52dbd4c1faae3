// Unknown keys in an option object are refused: a misspelt `clipnorm` silently ignored would
// train without clipping. The error names the nearest valid key so the fix is obvious.
import { ConfigError, UnrolledError } from '../errors.js';
import type { ArgumentErrorClass } from './domain.js';
import { UnknownKeyError, quoteKey, unknownKeyMessage } from './errors.js';

/** Levenshtein distance, case-insensitive (a wrong case is the most common slip: clipnorm). */
export function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  // option names are short; a huge key is far from all of them, whatever its letters
  if (a.length > 64 || b.length > 64) return Math.max(a.length, b.length);
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

/** The allowed name closest to `key`, if it is close enough to be a plausible misspelling. */
export function nearestKey(key: string, allowed: readonly string[]): string | undefined {
  // snake_case and kebab-case of a camelCase name count as the same name (weight_decay)
  const squash = (s: string) => s.replace(/[_\-\s]/g, '');
  let best: string | undefined,
    bestD = Infinity;
  for (const a of allowed) {
    const d = Math.min(editDistance(key, a), editDistance(squash(key), squash(a)));
    if (d < bestD) {
      best = a;
      bestD = d;
    }
  }
  if (best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 3))) return best;
  // an abbreviation or a different ending of a name (len → length, temp → temperature,
  // reduce → reduction): the longest shared beginning, if it is most of the key
  let prefixBest: string | undefined,
    prefixLen = 0;
  const k = key.toLowerCase();
  for (const a of allowed) {
    const l = a.toLowerCase();
    let n = 0;
    while (n < k.length && n < l.length && k[n] === l[n]) n++;
    if (n > prefixLen) {
      prefixLen = n;
      prefixBest = a;
    }
  }
  return prefixLen >= 3 && prefixLen * 3 >= key.length * 2 ? prefixBest : undefined;
}

/**
 * Refuses any own enumerable string key of `obj` that is not in `allowed`, naming the key and the
 * nearest valid name: "options: unknown key 'clipnorm' (did you mean 'clipNorm'?)". The error is
 * an UnknownKeyError (a ConfigError) unless another class is given, e.g. for checkpoints.
 */
export function checkKeys(argument: string, obj: object, allowed: readonly string[], ErrorClass?: ArgumentErrorClass): void {
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key)) continue;
    const near = nearestKey(key, allowed);
    if (ErrorClass === undefined) throw new UnknownKeyError(argument, key, near, allowed);
    const err = new ErrorClass(
      `${argument}.${key}`,
      near !== undefined ? `no such key (did you mean '${near}'?)` : `one of the keys ${allowed.join(', ')}`,
      `unknown key ${quoteKey(key)}`,
    );
    // the same words whatever the class, so that a misspelling reads alike everywhere
    err.message = unknownKeyMessage(argument, key, near, allowed);
    throw err;
  }
}

/**
 * Guards an object that may carry keys of the caller's own (a batch that is a task generator's
 * result, with its `markers`): only a key that looks like a misspelling of a known one (the same
 * name in another case or with `_`/`-`, or, from four letters on, at most two edits away, as
 * `lenghts`) is refused, since its field would otherwise be silently ignored. Allocation-free
 * once warm: verdicts on foreign keys are cached, so a training step can call it every time.
 */
export class MisspellingGuard {
  private readonly known: ReadonlySet<string>;
  private readonly verdicts = new Map<string, string>();

  constructor(private readonly allowed: readonly string[]) {
    this.known = new Set(allowed);
  }

  check(argument: string, obj: object, ErrorClass?: ArgumentErrorClass): void {
    try {
      this.scan(argument, obj, ErrorClass);
    } catch (e) {
      if (e instanceof UnrolledError) throw e;
      // a Proxy's ownKeys or getOwnPropertyDescriptor trap threw
      throw new (ErrorClass ?? ConfigError)(
        argument,
        'an object whose keys can be listed',
        `an error while listing them: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  private scan(argument: string, obj: object, ErrorClass?: ArgumentErrorClass): void {
    for (const key in obj) {
      if (this.known.has(key)) continue;
      let near = this.verdicts.get(key);
      if (near === undefined) {
        near = misspelling(key, this.allowed) ?? '';
        if (this.verdicts.size < 1024) this.verdicts.set(key, near);
      }
      if (near !== '') {
        if (ErrorClass === undefined) throw new UnknownKeyError(argument, key, near, this.allowed);
        const err = new ErrorClass(`${argument}.${key}`, `no such key (did you mean '${near}'?)`, `unknown key ${quoteKey(key)}`);
        err.message = unknownKeyMessage(argument, key, near, this.allowed);
        throw err;
      }
    }
  }
}

function misspelling(key: string, allowed: readonly string[]): string | undefined {
  const squash = (s: string) => s.replace(/[_\-\s]/g, '').toLowerCase();
  const k = squash(key);
  let best: string | undefined,
    bestD = 3;
  for (const a of allowed) {
    if (squash(a) === k) return a;
    if (key.length >= 4) {
      const d = editDistance(key, a);
      if (d < bestD) {
        best = a;
        bestD = d;
      }
    }
  }
  return best;
}
