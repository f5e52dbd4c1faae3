// Numeric sequences from CSV and JSON Lines text, for regression and classification. This file
// parses text (it runs in browsers too); src/node reads the files. Two layouts:
//
//   one sequence per line
//     CSV:   label,v1,v2,...        (label: 'first', 'last' or 'none'; steps·inputSize values, step-major)
//     JSONL: {"x": [..], "y": ..}   (x: numbers, or one array of inputSize numbers per step; y: one
//                                    target per step at 'every', or one per sequence at 'last')
//   one step per row, rows grouped into sequences by an id column (groupBy)
//     CSV:   a header line names the columns; id,f1,f2,target
//     JSONL: {"id": "a", "f1": 0.5, "f2": 1, "target": 0}
//     The rows of one id form one sequence in file order (they need not be adjacent). At 'last'
//     the sequence's target is the target of its last row.
//
// Class labels are integers ≥ 0. A row that cannot be read raises a DataError naming the source,
// the line and, for CSV, the column (1-based): a non-number, NaN or ±Infinity, a wrong number of
// fields, an empty sequence, a missing field.
import { DataError, InvalidArgumentError, describe } from '../errors.js';
import { checkKeys, checkNumber, DOMAINS, snapshotObject } from '../validate/index.js';
import { SequenceDataset, type SequenceDatasetOptions, type SequenceExample } from './dataset.js';

export interface TableOptions {
  /** 'regression' (MSE on values) or 'classification' (cross-entropy on integer labels). */
  task: 'regression' | 'classification';
  /** Targets at every step or one per sequence. Default: 'last' for CSV one-per-line, else 'every'. */
  at?: 'every' | 'last';
  /** Column or field holding the sequence id: rows are steps, grouped into sequences by it. */
  groupBy?: string;
  /** Grouped rows: the input columns/fields (default: every column but the id and the targets; JSONL requires them). */
  features?: string[];
  /** Grouped rows: the target columns/fields (one for classification). */
  targets?: string[];
  /** CSV one-per-line: where the label is (default 'first'; 'none' for unlabelled data). */
  label?: 'first' | 'last' | 'none';
  /** CSV one-per-line: values per step (default 1). */
  inputSize?: number;
  /** JSONL one-per-line: the input field (default 'x'). */
  x?: string;
  /** JSONL one-per-line: the target field (default 'y'). */
  y?: string;
  /** Classification: the number of classes (default: the largest label + 1). */
  numClasses?: number;
  /** The name errors give the data, e.g. its path (default 'data'). */
  source?: string;
}

const KEYS = ['task', 'at', 'groupBy', 'features', 'targets', 'label', 'inputSize', 'x', 'y', 'numClasses', 'source'];

/** The options of a table with every default applied. */
export interface ResolvedTableOptions {
  task: 'regression' | 'classification';
  at: 'every' | 'last';
  groupBy?: string;
  features?: string[];
  targets?: string[];
  label: 'first' | 'last' | 'none';
  inputSize: number;
  x: string;
  y: string;
  numClasses?: number;
  source: string;
}

function resolve(options: TableOptions, csv: boolean): ResolvedTableOptions {
  const o = snapshotObject('options', options, 'an object { task, ... }', { ErrorClass: InvalidArgumentError });
  if (o === undefined) throw new InvalidArgumentError('options', 'an object { task, ... }', 'undefined');
  checkKeys('options', o, KEYS, InvalidArgumentError);
  const task = o.task;
  if (task !== 'regression' && task !== 'classification')
    throw new InvalidArgumentError('options.task', '"regression" or "classification"', describe(task));
  const groupBy = optString('options.groupBy', o.groupBy);
  const at = o.at ?? (csv && groupBy === undefined ? 'last' : 'every');
  if (at !== 'every' && at !== 'last') throw new InvalidArgumentError('options.at', '"every" or "last"', describe(at));
  const names = (key: string): string[] | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0 || v.some((s) => typeof s !== 'string'))
      throw new InvalidArgumentError(`options.${key}`, 'a non-empty array of column names', describe(v));
    return v as string[];
  };
  const label = o.label ?? 'first';
  if (label !== 'first' && label !== 'last' && label !== 'none')
    throw new InvalidArgumentError('options.label', '"first", "last" or "none"', describe(label));
  const r: ResolvedTableOptions = {
    task,
    at,
    groupBy,
    features: names('features'),
    targets: names('targets'),
    label,
    inputSize: o.inputSize === undefined ? 1 : checkNumber('options.inputSize', o.inputSize, DOMAINS.inputSize, InvalidArgumentError),
    x: optString('options.x', o.x) ?? 'x',
    y: optString('options.y', o.y) ?? 'y',
    numClasses:
      o.numClasses === undefined ? undefined : checkNumber('options.numClasses', o.numClasses, DOMAINS.outputSize, InvalidArgumentError),
    source: optString('options.source', o.source) ?? 'data',
  };
  if (task === 'classification' && r.targets && r.targets.length !== 1)
    throw new InvalidArgumentError('options.targets', 'one column for classification', `${r.targets.length}`);
  if (groupBy === undefined) {
    if (r.features || r.targets)
      throw new InvalidArgumentError(
        r.features ? 'options.features' : 'options.targets',
        'nothing without groupBy (they name the columns of grouped rows)',
        'a list',
      );
    if (csv && at === 'every')
      throw new InvalidArgumentError(
        'options.at',
        '"last" for CSV with one sequence per line (per-step targets need groupBy or JSON Lines)',
        '"every"',
      );
    if (csv && label === 'none') throw new InvalidArgumentError('options.label', '"first" or "last" (a sequence needs a target)', '"none"');
  } else if (!csv && !(r.features && r.targets)) {
    throw new InvalidArgumentError(
      r.features ? 'options.targets' : 'options.features',
      'the field names of grouped JSON Lines rows',
      'undefined',
    );
  }
  return r;
}

function optString(argument: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new InvalidArgumentError(argument, 'a non-empty string', describe(v));
  return v;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The value of a numeric field, or a DataError at (line, column). */
function parseNumber(text: string, r: ResolvedTableOptions, line: number, column: number | undefined, what: string): number {
  const s = text.trim();
  if (!NUMBER.test(s)) {
    throw new DataError(
      r.source,
      line,
      column,
      `${what}: expected a number, got ${s === '' ? 'an empty field' : JSON.stringify(s.length > 30 ? `${s.slice(0, 30)}…` : s)}`,
    );
  }
  const v = Number(s);
  if (!Number.isFinite(v) || Math.abs(v) > 3.4028234663852886e38)
    throw new DataError(r.source, line, column, `${what}: ${s} is outside the float32 range`);
  return v;
}

function checkLabel(v: number, r: ResolvedTableOptions, line: number, column: number | undefined, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v >= (r.numClasses ?? 2 ** 24)) {
    throw new DataError(
      r.source,
      line,
      column,
      `${what}: expected a class label, an integer in [0, ${(r.numClasses ?? 2 ** 24) - 1}], got ${v}`,
    );
  }
  return v;
}

/** The fields of one CSV line (double quotes group, "" is a quote). */
function splitCsv(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let cur = '',
    quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Lines of a text with their 1-based numbers, blank lines left out. */
function* lines(text: string): Generator<[string, number]> {
  let n = 0,
    start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    n++;
    let line = text.slice(start, end);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (n === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    if (line.trim() !== '') yield [line, n];
    start = end + 1;
  }
}

/** One step of a grouped file: the id, the inputs and the targets. */
export interface Step {
  id: string;
  x: number[];
  y: number[];
}

/** What one non-blank line holds: a whole sequence (one per line) or one step of a grouped sequence. */
export type Row = { kind: 'sequence'; x: number[]; y: number[] } | ({ kind: 'step' } & Step);

/**
 * Reads a table line by line: row() parses one line (in file order, header first), whatever
 * holds the text (a string here, a file or Blob read piece by piece in sequence-file.ts), and
 * dataset() turns the rows into a SequenceDataset.
 */
export class TableReader {
  readonly r: ResolvedTableOptions;
  /** Values per step of the inputs and of the targets, fixed by the first row. */
  inputSize: number | undefined;
  targetSize: number | undefined;
  /** Grouped: whether targets are per step (at 'every') or the last row's. */
  readonly grouped: boolean;
  /** The largest class label read (classification). */
  maxLabel = 0;
  private readonly csv: boolean;
  private header: { names: string[]; id: number; features: number[]; targets: number[] } | null = null;

  constructor(options: TableOptions, format: 'csv' | 'jsonl') {
    this.csv = format === 'csv';
    this.r = resolve(options, this.csv);
    this.grouped = this.r.groupBy !== undefined;
    if (!this.grouped && this.csv) {
      this.inputSize = this.r.inputSize;
      this.targetSize = 1;
    }
  }

  /** The row of line `n` (text without its newline); null for a blank line and the header. */
  row(text: string, n: number): Row | null {
    if (text.trim() === '') return null;
    const row = this.csv ? this.csvRow(text, n) : this.jsonlRow(text, n);
    if (row && this.r.task === 'classification') for (const v of row.y) this.maxLabel = Math.max(this.maxLabel, v);
    return row;
  }

  /** The dataset of `rows` (grouped steps joined by id in file order; the ids' rows need not be adjacent). */
  dataset(rows: Iterable<Row>): SequenceDataset {
    const examples: SequenceExample[] = [];
    const groups = new Map<string, Step[]>();
    for (const row of rows) {
      if (row.kind === 'sequence') examples.push(row);
      else {
        const g = groups.get(row.id);
        if (g) g.push(row);
        else groups.set(row.id, [row]);
      }
    }
    for (const g of groups.values()) examples.push(this.join(g));
    return this.finish(examples);
  }

  /** The sequence of one id's steps. */
  join(steps: readonly Step[]): SequenceExample {
    const x = steps.flatMap((s) => s.x);
    const y = this.r.at === 'every' ? steps.flatMap((s) => s.y) : steps[steps.length - 1].y;
    return { x, y };
  }

  /** The dataset options that fit what was read (the classes from the largest label, unless given). */
  datasetOptions(): SequenceDatasetOptions {
    const r = this.r;
    return {
      input: 'dense',
      inputSize: this.inputSize ?? 1,
      at: r.at,
      target: r.task === 'classification' ? 'classes' : 'values',
      targetSize: r.task === 'classification' ? Math.max(r.numClasses ?? this.maxLabel + 1, 1) : (this.targetSize ?? 1),
    };
  }

  /** The DataError of a table without sequences. */
  empty(): DataError {
    const noHeader = this.csv && this.grouped && !this.header;
    return new DataError(this.r.source, 1, undefined, noHeader ? 'no header line' : 'no sequences (the data is empty)');
  }

  private finish(examples: SequenceExample[]): SequenceDataset {
    if (examples.length === 0) throw this.empty();
    return new SequenceDataset(examples, this.datasetOptions());
  }

  private csvRow(line: string, n: number): Row | null {
    const r = this.r;
    if (!this.grouped) {
      const fields = splitCsv(line);
      const labelAt = r.label === 'first' ? 0 : fields.length - 1;
      const values: number[] = [];
      let y = 0;
      fields.forEach((f, k) => {
        const v = parseNumber(f, r, n, k + 1, k === labelAt ? 'label' : 'value');
        if (k === labelAt) y = r.task === 'classification' ? checkLabel(v, r, n, k + 1, 'label') : v;
        else values.push(v);
      });
      if (values.length === 0) throw new DataError(r.source, n, undefined, 'an empty sequence (only a label)');
      if (values.length % r.inputSize !== 0)
        throw new DataError(r.source, n, undefined, `${values.length} values, not a multiple of inputSize ${r.inputSize}`);
      return { kind: 'sequence', x: values, y: [y] };
    }
    const h = this.header;
    if (!h) {
      this.readHeader(line, n);
      return null;
    }
    const fields = splitCsv(line);
    if (fields.length !== h.names.length)
      throw new DataError(r.source, n, undefined, `${fields.length} fields, expected ${h.names.length} as in the header`);
    const x = h.features.map((k) => parseNumber(fields[k], r, n, k + 1, h.names[k]));
    const y = h.targets.map((k) => {
      const v = parseNumber(fields[k], r, n, k + 1, h.names[k]);
      return r.task === 'classification' ? checkLabel(v, r, n, k + 1, h.names[k]) : v;
    });
    return { kind: 'step', id: fields[h.id].trim(), x, y };
  }

  /** Grouped CSV: the 1-based column of the id (once the header is read); undefined otherwise. */
  get idColumn(): number | undefined {
    return this.header ? this.header.id + 1 : undefined;
  }

  private readHeader(line: string, n: number): void {
    const r = this.r;
    const names = splitCsv(line).map((s) => s.trim());
    const col = (name: string, what: string): number => {
      const k = names.indexOf(name);
      if (k < 0)
        throw new DataError(r.source, n, undefined, `no ${what} column ${JSON.stringify(name)} in the header (${names.join(', ')})`);
      return k;
    };
    const id = col(r.groupBy!, 'id');
    const targets = (r.targets ?? [names[names.length - 1]]).map((t) => col(t, 'target'));
    const features = r.features
      ? r.features.map((f) => col(f, 'feature'))
      : names.map((_, k) => k).filter((k) => k !== id && !targets.includes(k));
    if (features.length === 0) throw new DataError(r.source, n, undefined, 'no feature columns left beside the id and the targets');
    this.header = { names, id, features, targets };
    this.inputSize = features.length;
    this.targetSize = targets.length;
  }

  private jsonlRow(line: string, n: number): Row {
    const r = this.r;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new DataError(r.source, n, undefined, `not valid JSON (${(e as Error).message})`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v))
      throw new DataError(r.source, n, undefined, `expected an object, got ${describe(v)}`);
    const o = v as Record<string, unknown>;
    if (this.grouped) {
      const id = o[r.groupBy!];
      if (typeof id !== 'string' && typeof id !== 'number')
        throw new DataError(r.source, n, undefined, `${r.groupBy}: expected a string or number id, got ${describe(id)}`);
      this.inputSize = r.features!.length;
      this.targetSize = r.targets!.length;
      const x = r.features!.map((f) => this.num(o[f], n, f));
      const y = r.targets!.map((f) => this.target(o[f], n, f));
      return { kind: 'step', id: String(id), x, y };
    }
    const xs = o[r.x];
    if (!Array.isArray(xs))
      throw new DataError(
        r.source,
        n,
        undefined,
        `${r.x}: expected an array of steps, got ${xs === undefined ? 'nothing (missing)' : describe(xs)}`,
      );
    if (xs.length === 0) throw new DataError(r.source, n, undefined, `${r.x}: an empty sequence`);
    const x: number[] = [];
    xs.forEach((s, t) => {
      const v = this.step(s, n, `${r.x}[${t}]`, this.inputSize, false);
      this.inputSize ??= v.length;
      x.push(...v);
    });
    const ys = o[r.y];
    const y: number[] = [];
    if (r.at === 'every') {
      if (!Array.isArray(ys) || ys.length !== xs.length)
        throw new DataError(
          r.source,
          n,
          undefined,
          `${r.y}: expected one target per step (${xs.length}), got ${ys === undefined ? 'nothing (missing)' : describe(ys)}`,
        );
      ys.forEach((s, t) => {
        const v = this.step(s, n, `${r.y}[${t}]`, this.targetSize, true);
        this.targetSize ??= v.length;
        y.push(...v);
      });
    } else {
      const v = this.step(ys, n, r.y, this.targetSize, true);
      this.targetSize ??= v.length;
      y.push(...v);
    }
    if (r.task === 'classification' && this.targetSize !== 1)
      throw new DataError(r.source, n, undefined, `${r.y}: one class label per target, got ${this.targetSize}`);
    return { kind: 'sequence', x, y };
  }

  private num(v: unknown, n: number, what: string): number {
    if (typeof v !== 'number')
      throw new DataError(
        this.r.source,
        n,
        undefined,
        `${what}: expected a number, got ${v === undefined ? 'nothing (missing)' : (JSON.stringify(v)?.slice(0, 30) ?? describe(v))}`,
      );
    return v;
  }

  private target(v: unknown, n: number, what: string): number {
    const t = this.num(v, n, what);
    return this.r.task === 'classification' ? checkLabel(t, this.r, n, undefined, what) : t;
  }

  // each step's value: a number, or an array of `size` numbers (the first line fixes the size)
  private step(v: unknown, n: number, what: string, size: number | undefined, isTarget: boolean): number[] {
    const arr = Array.isArray(v) ? v : [v];
    if (size !== undefined && arr.length !== size)
      throw new DataError(this.r.source, n, undefined, `${what}: expected ${size} values per step as on the first line, got ${arr.length}`);
    return arr.map((e, k) => (isTarget ? this.target(e, n, `${what}[${k}]`) : this.num(e, n, `${what}[${k}]`)));
  }
}

/** The rows of a whole text. */
function* rowsOf(reader: TableReader, text: string): Generator<Row> {
  for (const [line, n] of lines(text)) {
    const row = reader.row(line, n);
    if (row) yield row;
  }
}

/** A dataset from CSV text (see the top of the file for the layouts). */
export function parseCsv(text: string, options: TableOptions): SequenceDataset {
  if (typeof text !== 'string') throw new InvalidArgumentError('text', 'a string', describe(text));
  const reader = new TableReader(options, 'csv');
  return reader.dataset(rowsOf(reader, text));
}

/** A dataset from JSON Lines text (see the top of the file for the layouts). */
export function parseJsonl(text: string, options: TableOptions): SequenceDataset {
  if (typeof text !== 'string') throw new InvalidArgumentError('text', 'a string', describe(text));
  const reader = new TableReader(options, 'jsonl');
  return reader.dataset(rowsOf(reader, text));
}
