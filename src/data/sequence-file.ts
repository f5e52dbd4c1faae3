// Numeric sequences from a CSV or JSON Lines file of any size, read line by line from a ByteSource
// (a file handle in Node: src/node/data-files.ts; a Blob or File in the browser: blobSource), in
// the layouts of tables.ts.
//
// readSequences() yields the sequences in file order as it reads them, one piece of the file at a
// time: a bad row stops it at that row, after the sequences before it were yielded. SequenceFile
// makes one such pass to check every row and remember where each sequence's lines are (its byte
// range, first line and length: a few numbers per sequence), then reads the sequences of a batch
// from the source when fit() asks for it, so that memory holds the index and one batch, not the
// file. Its batches are those of a SequenceDataset holding the same sequences, bit for bit.
//
// Rows grouped by an id column must be contiguous here (each sequence's rows together, as a file
// sorted by the id is): a stream cannot join rows that lie gigabytes apart. The in-memory readers
// (parseCsv, readSequenceFile) accept interleaved rows.
import { DataError, InvalidArgumentError, describe } from '../errors.js';
import type { LossSpec } from '../model/loss.js';
import { type DatasetBatch, SequenceDataset, type SequenceDatasetOptions, splitOrder } from './dataset.js';
import { readLines } from './lines.js';
import { type Row, type Step, TableReader, type TableOptions } from './tables.js';
import type { ByteSource } from './text-stream.js';

export interface SequenceSourceOptions extends TableOptions {
  format: 'csv' | 'jsonl';
  /** Bytes read at a time (default 1 MiB). */
  chunkBytes?: number;
}

/** One sequence as read: its inputs and targets, its steps, its first line and its bytes [offset, end). */
export interface SourceSequence {
  x: number[];
  y: number[] | number;
  steps: number;
  line: number;
  offset: number;
  end: number;
}

/**
 * The sequences of `source` in file order, read line by line (see the top of the file). A bad row
 * is a DataError naming the source, the line and (CSV) the column; so are the rows of a grouped
 * sequence that continue after other ids.
 */
export function readSequences(source: ByteSource, options: SequenceSourceOptions): AsyncGenerator<SourceSequence> {
  return sequencesOf(source, options, new TableReader(tableOptions(source, options), options.format), true);
}

/** readSequences with its reader; without `values` only where each sequence is (x and y empty: the index pass keeps no rows). */
async function* sequencesOf(
  source: ByteSource,
  options: SequenceSourceOptions,
  reader: TableReader,
  values: boolean,
): AsyncGenerator<SourceSequence> {
  const r = reader.r;
  // grouped: the rows of the sequence being read (with `values`), and the first line of every id seen (to refuse one that comes back)
  let steps: Step[] = [];
  let current: { id: string; line: number; offset: number; end: number; steps: number } | null = null;
  const seen = new Map<string, number>();
  const emit = (c: typeof current & {}): SourceSequence => {
    const e = values ? reader.join(steps) : { x: [], y: [] };
    return { x: e.x as number[], y: e.y as number[], steps: c.steps, line: c.line, offset: c.offset, end: c.end };
  };
  for await (const piece of readLines(source, { chunkBytes: options.chunkBytes })) {
    for (const l of piece) {
      const row: Row | null = reader.row(l.text, l.line);
      if (!row) continue;
      if (row.kind === 'sequence') {
        const steps = row.x.length / reader.inputSize!;
        yield { x: values ? row.x : [], y: values ? row.y : [], steps, line: l.line, offset: l.offset, end: l.end };
        continue;
      }
      if (current && row.id === current.id) {
        if (values) steps.push(row);
        current.end = l.end;
        current.steps++;
        continue;
      }
      const before = seen.get(row.id);
      if (before !== undefined)
        throw new DataError(
          r.source,
          l.line,
          reader.idColumn,
          `the rows of ${r.groupBy} ${JSON.stringify(row.id)} (from line ${before}) continue here after other ids; read as a stream, each sequence's rows must be together (sort the file by ${r.groupBy})`,
        );
      if (current) yield emit(current);
      seen.set(row.id, l.line);
      current = { id: row.id, line: l.line, offset: l.offset, end: l.end, steps: 1 };
      steps = values ? [row] : [];
    }
  }
  if (current) yield emit(current);
}

function tableOptions(source: ByteSource, options: SequenceSourceOptions): TableOptions {
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError('options', 'an object { format, task, ... }', describe(options));
  const { format, chunkBytes, ...table } = options;
  if (format !== 'csv' && format !== 'jsonl') throw new InvalidArgumentError('options.format', '"csv" or "jsonl"', describe(format));
  if (chunkBytes !== undefined && !(Number.isInteger(chunkBytes) && chunkBytes >= 1))
    throw new InvalidArgumentError('options.chunkBytes', 'a positive integer', describe(chunkBytes));
  return { ...table, source: table.source ?? source.name };
}

/** Where each sequence of a file is: byte range, first line, steps. */
interface SequenceIndex {
  offset: Float64Array;
  end: Float64Array;
  line: Float64Array;
  lengths: Int32Array;
}

/** A CSV or JSON Lines source indexed for fit(): batches read from the source on demand (see the top of the file). */
export class SequenceFile {
  readonly input = 'dense' as const;
  readonly inputSize: number;
  readonly target: 'classes' | 'values';
  readonly targetSize: number;
  readonly at: 'every' | 'last';
  /** Steps of each sequence. */
  readonly lengths: Int32Array;

  private constructor(
    private readonly source: ByteSource,
    private readonly options: SequenceSourceOptions,
    /** Grouped CSV: the header line, read again before every batch's rows. */
    private readonly header: { text: string; line: number } | null,
    private readonly index: SequenceIndex,
    private readonly datasetOptions: SequenceDatasetOptions,
  ) {
    this.inputSize = datasetOptions.inputSize!;
    this.target = datasetOptions.target;
    this.targetSize = datasetOptions.targetSize!;
    this.at = datasetOptions.at!;
    this.lengths = index.lengths;
  }

  /** Reads `source` once (every row checked) and returns it indexed. */
  static async open(source: ByteSource, options: SequenceSourceOptions): Promise<SequenceFile> {
    const reader = new TableReader(tableOptions(source, options), options.format);
    const offset: number[] = [],
      end: number[] = [],
      line: number[] = [],
      lengths: number[] = [];
    for await (const s of sequencesOf(source, options, reader, false)) {
      offset.push(s.offset);
      end.push(s.end);
      line.push(s.line);
      lengths.push(s.steps);
    }
    if (lengths.length === 0) throw reader.empty();
    let header: { text: string; line: number } | null = null;
    if (options.format === 'csv' && options.groupBy !== undefined) {
      for await (const piece of readLines(source, { chunkBytes: options.chunkBytes, to: offset[0] })) {
        header = piece.map((l) => ({ text: l.text, line: l.line })).find((l) => l.text.trim() !== '') ?? null;
        if (header) break;
      }
    }
    const index = {
      offset: Float64Array.from(offset),
      end: Float64Array.from(end),
      line: Float64Array.from(line),
      lengths: Int32Array.from(lengths),
    };
    return new SequenceFile(source, options, header, index, reader.datasetOptions());
  }

  /** Sequences in the file (or in this subset of it). */
  get size(): number {
    return this.lengths.length;
  }

  /** The loss that fits the targets, as SequenceDataset.lossSpec. */
  lossSpec(): LossSpec {
    return { loss: this.target === 'classes' ? 'cross-entropy' : 'mse', at: this.at };
  }

  /** The sequences `indices`, read from the source and padded into one batch, as SequenceDataset.batch. */
  async batch(indices: ArrayLike<number>): Promise<DatasetBatch> {
    if (indices.length === 0) throw new InvalidArgumentError('indices', 'at least one index', 'none');
    const picked = Array.from(indices, (i, j) => {
      if (!Number.isInteger(i) || i < 0 || i >= this.size)
        throw new InvalidArgumentError(`indices[${j}]`, `an integer in [0, ${this.size - 1}]`, describe(i));
      return i;
    });
    const reader = this.reader();
    const examples = await Promise.all(picked.map((i) => this.read(i, reader)));
    const dataset = new SequenceDataset(examples, this.datasetOptions);
    return dataset.batch(Int32Array.from(examples, (_, j) => j));
  }

  /** The sequences `indices` of this file (sharing its source). */
  subset(indices: ArrayLike<number>): SequenceFile {
    const idx = Array.from(indices, (i, j) => {
      if (!Number.isInteger(i) || i < 0 || i >= this.size)
        throw new InvalidArgumentError(`indices[${j}]`, `an integer in [0, ${this.size - 1}]`, describe(i));
      return i;
    });
    if (idx.length === 0) throw new InvalidArgumentError('indices', 'at least one index', 'none');
    const pick = <A extends Float64Array | Int32Array>(a: A): A =>
      a.constructor === Int32Array ? (Int32Array.from(idx, (i) => a[i]) as A) : (Float64Array.from(idx, (i) => a[i]) as A);
    const { offset, end, line, lengths } = this.index;
    const index = { offset: pick(offset), end: pick(end), line: pick(line), lengths: pick(lengths) };
    return new SequenceFile(this.source, this.options, this.header, index, this.datasetOptions);
  }

  /** [rest, held out], the same sequences as SequenceDataset.split of the same file with the same seed. */
  split(fraction: number, seed = 0): [SequenceFile, SequenceFile] {
    const [rest, heldOut] = splitOrder(this.size, fraction, seed);
    return [this.subset(rest), this.subset(heldOut)];
  }

  /** All its sequences in memory (e.g. a validation set for evaluate()). */
  async load(): Promise<SequenceDataset> {
    const examples = [];
    const reader = this.reader();
    for (let i = 0; i < this.size; i++) examples.push(await this.read(i, reader));
    return new SequenceDataset(examples, this.datasetOptions);
  }

  async close(): Promise<void> {
    await this.source.close?.();
  }

  /** A reader of the file's rows (the header read, for grouped CSV). */
  private reader(): TableReader {
    const reader = new TableReader(tableOptions(this.source, this.options), this.options.format);
    if (this.header) reader.row(this.header.text, this.header.line);
    return reader;
  }

  /** Sequence `i`, parsed again from its lines. */
  private async read(i: number, reader: TableReader): Promise<{ x: number[]; y: number[] | number }> {
    const { offset, end, line } = this.index;
    const steps: Step[] = [];
    let sequence: { x: number[]; y: number[] } | null = null;
    const range = { chunkBytes: this.options.chunkBytes, from: offset[i], to: end[i], firstLine: line[i] };
    for await (const piece of readLines(this.source, range))
      for (const l of piece) {
        const row = reader.row(l.text, l.line);
        if (row?.kind === 'sequence') sequence = row;
        else if (row) steps.push(row);
      }
    if (sequence) return sequence;
    if (steps.length === 0)
      throw new DataError(reader.r.source, line[i], undefined, 'no rows where the sequence was read before (was the file changed?)');
    return reader.join(steps) as { x: number[]; y: number[] };
  }
}
