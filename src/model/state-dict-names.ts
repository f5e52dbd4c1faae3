// The names of a state_dict written elsewhere, mapped to the model's. A PyTorch module that holds
// the recurrent stack as a submodule saves its tensors under that submodule's name
// (`self.lstm = nn.LSTM(...)` → `lstm.weight_ih_l0`; `self.fc = nn.Linear(...)` → `fc.weight`):
// `prefix`, `head` and `rename` say how those names become the model's (`weight_ih_l0`,
// `head.weight`). When the mapped names are not exactly the model's, one error lists what is
// missing, what is unexpected and every name the model has, with the options that would map the
// names given when it can tell.
import { InvalidArgumentError, describe } from '../errors.js';

/** How the names of a state_dict written elsewhere map to the model's parameter names. */
export interface StateDictNames {
  /**
   * The prefix of the recurrent stack's (and embedding's) names in the source, removed: `'lstm.'`
   * reads `lstm.weight_ih_l0` as `weight_ih_l0`.
   */
  prefix?: string;
  /** The prefix of the linear head's names in the source, read as `head.`: `'fc.'` reads `fc.weight` as `head.weight`. */
  head?: string;
  /**
   * Names mapped one by one, before `prefix` and `head` (which then apply to the names it leaves
   * alone): an object `{ 'fc.weight': 'head.weight' }`, or a function from a source name to the
   * model's name, or to null to skip that tensor (e.g. an optimizer's or another submodule's).
   */
  rename?: Readonly<Record<string, string>> | ((name: string) => string | null | undefined);
}

const KEYS: readonly string[] = ['prefix', 'head', 'rename'];

/** The options checked (read once); undefined when none are given. */
export function resolveStateDictNames(options: unknown, argument = 'options'): StateDictNames | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError(argument, 'an object { prefix?, head?, rename? }', describe(options));
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o))
    if (!KEYS.includes(key))
      throw new InvalidArgumentError(argument, 'only the keys prefix, head, rename', `the key ${JSON.stringify(key)}`);
  const { prefix, head, rename } = o;
  for (const [k, v] of [
    ['prefix', prefix],
    ['head', head],
  ] as const)
    if (v !== undefined && (typeof v !== 'string' || v === ''))
      throw new InvalidArgumentError(`${argument}.${k}`, 'a non-empty string, e.g. "lstm."', describe(v));
  let map: StateDictNames['rename'];
  if (typeof rename === 'function') map = rename as StateDictNames['rename'];
  else if (rename !== undefined) {
    if (rename === null || typeof rename !== 'object' || Array.isArray(rename))
      throw new InvalidArgumentError(`${argument}.rename`, 'an object of source name → model name, or a function', describe(rename));
    const copy: Record<string, string> = Object.create(null);
    for (const [from, to] of Object.entries(rename)) {
      if (typeof to !== 'string')
        throw new InvalidArgumentError(`${argument}.rename[${JSON.stringify(from)}]`, 'a parameter name', describe(to));
      copy[from] = to;
    }
    map = copy;
  }
  return { prefix: prefix as string | undefined, head: head as string | undefined, rename: map };
}

/** The model's name for one source name; null when `rename` skips it. */
function mapName(name: string, o: StateDictNames): string | null {
  const r = o.rename;
  if (typeof r === 'function') {
    const to = r(name);
    if (to === null) return null;
    if (to !== undefined && to !== name) {
      if (typeof to !== 'string')
        throw new InvalidArgumentError(`options.rename("${name}")`, 'a parameter name, or null to skip', describe(to));
      return to;
    }
  } else if (r && Object.hasOwn(r, name)) return r[name];
  if (o.head !== undefined && name.startsWith(o.head)) return `head.${name.slice(o.head.length)}`;
  if (o.prefix !== undefined && name.startsWith(o.prefix)) return name.slice(o.prefix.length);
  return name;
}

/**
 * Maps the source names to the model's and checks that they are exactly `expected` (name →
 * shape); returns model name → source name. `fail` makes the error (its class and lead).
 */
export function matchStateDictNames(
  given: readonly string[],
  expected: ReadonlyMap<string, readonly number[]>,
  options: StateDictNames | undefined,
  fail: (message: string) => Error,
): Map<string, string> {
  const bySource = new Map<string, string>();
  const unexpected: string[] = [];
  const duplicate: string[] = [];
  for (const name of given) {
    const to = options ? mapName(name, options) : name;
    if (to === null) continue;
    const shown = to === name ? JSON.stringify(name) : `${JSON.stringify(name)} (read as ${JSON.stringify(to)})`;
    if (!expected.has(to)) unexpected.push(shown);
    else if (bySource.has(to)) duplicate.push(`"${bySource.get(to)}" and "${name}" both map to "${to}"`);
    else bySource.set(to, name);
  }
  const missing = [...expected]
    .filter(([n]) => !bySource.has(n))
    .map(([n, shape]) => `tensor ${JSON.stringify(n)} is missing (shape [${shape.join(', ')}])`);
  if (unexpected.length === 0 && missing.length === 0 && duplicate.length === 0) return new Map([...bySource]);
  const parts = [...unexpected.map((u) => `unexpected tensor ${u}`), ...duplicate, ...missing];
  const hint = suggest(given, [...expected.keys()], options);
  throw fail(
    `${parts.join('; ')}; the model's tensors are exactly ${[...expected.keys()].join(', ')}` +
      (hint ? `; the names look like a PyTorch module's state_dict: pass ${hint}` : ''),
  );
}

/** The options that would map names like `lstm.weight_ih_l0` and `fc.weight` to the model's, if the names show them. */
function suggest(given: readonly string[], expected: readonly string[], options: StateDictNames | undefined): string | null {
  const stack = expected.filter((n) => !n.startsWith('head.'));
  const counts = new Map<string, number>();
  for (const g of given)
    for (const e of stack)
      if (g.length > e.length && g.endsWith(e) && g[g.length - e.length - 1] === '.')
        counts.set(g.slice(0, g.length - e.length), (counts.get(g.slice(0, g.length - e.length)) ?? 0) + 1);
  const prefix = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  const heads = given
    .filter(
      (g) =>
        g.endsWith('.weight') && (prefix === undefined || !g.startsWith(prefix)) && given.includes(`${g.slice(0, -'weight'.length)}bias`),
    )
    .map((g) => g.slice(0, -'weight'.length))
    .filter((p) => p !== 'head.' && p !== 'embedding.');
  const head = heads.length === 1 ? heads[0] : undefined;
  const o: string[] = [];
  if (prefix !== undefined && prefix !== options?.prefix) o.push(`prefix: ${JSON.stringify(prefix)}`);
  if (head !== undefined && head !== options?.head) o.push(`head: ${JSON.stringify(head)}`);
  return o.length ? `{ ${o.join(', ')} }` : null;
}
