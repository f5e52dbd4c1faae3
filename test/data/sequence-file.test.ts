// CSV and JSON Lines read line by line from a byte source in pieces smaller than the file: the
// lines (CRLF, a byte order mark, characters cut by a piece boundary), the sequences yielded as
// they are read (a bad row near the end surfaces only after the earlier ones were yielded, and
// before the rest of the file was read), SequenceFile's batches equal to a SequenceDataset's of the
// same text, fit on a SequenceFile bit-identical to fit on the dataset, interleaved groups refused.
import { describe, expect, it } from 'vitest';
import { readLines } from '../../src/data/lines.js';
import { SequenceFile, readSequences, type SequenceSourceOptions } from '../../src/data/sequence-file.js';
import { parseCsv, parseJsonl } from '../../src/data/tables.js';
import { blobSource, type ByteSource } from '../../src/data/text-stream.js';
import { DataError, FileError } from '../../src/errors.js';
import { Rng } from '../../src/model/rng.js';
import { fit } from '../../src/train/fit.js';
import { Trainer } from '../../src/train/trainer.js';
import { makeModel } from '../helpers.js';

/** A Blob's bytes as a ByteSource that counts what was read. */
function counted(text: string | Uint8Array, name = 'data.csv'): ByteSource & { bytesRead: number } {
  const inner = blobSource(new Blob([typeof text === 'string' ? text : new Uint8Array(text)]), name);
  const s = {
    name,
    size: inner.size,
    bytesRead: 0,
    read: async (offset: number, length: number) => {
      const b = await inner.read(offset, length);
      s.bytesRead += b.length;
      return b;
    },
  };
  return s;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

// ragged labelled sequences, one per line, with values written in several ways
const rng = new Rng(11);
const ONE_PER_LINE = Array.from({ length: 50 }, () => {
  const len = 1 + rng.int(12);
  return [rng.int(3), ...Array.from({ length: len }, () => (rng.normal() * 10).toFixed(1 + rng.int(4)))].join(',');
}).join('\n');
// grouped rows, contiguous, ids with characters of 2, 3 and 4 bytes so that pieces cut them
const GROUPED = [
  'id,a,b,target',
  ...Array.from({ length: 30 }, (_, s) => {
    const len = 1 + rng.int(6);
    return Array.from({ length: len }, (_, t) => `é日😀${s},${(s + t / 10).toFixed(2)},${rng.int(100)},${(rng.normal() * 2).toFixed(3)}`);
  }).flat(),
].join('\r\n');

describe('lines from a byte source', () => {
  it('splits pieces anywhere: CRLF, a byte order mark, multi-byte characters across pieces, no final newline', async () => {
    const text = '\ufeffab,c\r\n\r\nnaïve 日本 😀\nlast';
    for (const chunkBytes of [1, 2, 3, 5, 64]) {
      const lines = (await collect(readLines(counted(text), { chunkBytes }))).flat();
      expect(lines.map((l) => l.text)).toEqual(['ab,c', '', 'naïve 日本 😀', 'last']);
      expect(lines.map((l) => l.line)).toEqual([1, 2, 3, 4]);
      const bytes = new TextEncoder().encode(text);
      // each line's byte range holds its text and its newline
      for (const l of lines)
        expect(
          new TextDecoder()
            .decode(bytes.subarray(l.offset, l.end))
            .replace(/^\ufeff/, '')
            .replace(/\r?\n$/, ''),
        ).toBe(l.text);
    }
  });

  it('a byte that is not UTF-8 is a FileError with its offset', async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('1,2\n3,é'), 0xff, ...new TextEncoder().encode('4\n')]);
    const err = await collect(readLines(counted(bytes, 'bad.csv'), { chunkBytes: 3 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileError);
    // the bad byte itself, after a well-formed two-byte character on the same line
    expect((err as Error).message).toBe(
      'bad.csv: is not valid UTF-8: the byte 0xff at offset 8 does not start a well-formed character (save the file as UTF-8)',
    );
  });
});

describe('sequences streamed from a source', () => {
  it('are yielded as they are read: a bad row near the end surfaces after every earlier sequence, before the rest is read', async () => {
    const lines = ONE_PER_LINE.split('\n');
    lines[45] = lines[45].replace(/,([^,]*)$/, ',1.5x'); // the last value of line 46
    const filler = Array.from({ length: 200 }, () => lines[0]).join('\n');
    const source = counted(`${lines.join('\n')}\n${filler}\n`);
    const seen: number[] = [];
    let readAtFirst = -1;
    const err = await (async () => {
      for await (const s of readSequences(source, { format: 'csv', task: 'classification', chunkBytes: 64 })) {
        if (readAtFirst < 0) readAtFirst = source.bytesRead;
        seen.push(s.line);
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    const e = err as DataError;
    expect([e.source, e.line, e.column]).toEqual(['data.csv', 46, lines[45].split(',').length]);
    expect(e.message).toMatch(/^data\.csv:46:\d+: value: expected a number, got "1\.5x"$/);
    expect(seen).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));
    // incremental: the first sequence came after one piece, and the error before the filler was read
    expect(readAtFirst).toBeLessThanOrEqual(64);
    expect(source.bytesRead).toBeLessThan(source.size / 2);
  });

  it('rows of an id that come back after other ids are refused, naming the line and the id column', async () => {
    const csv = 'n,id,target\n1,a,0\n2,a,1\n3,b,0\n4,a,1\n';
    const err = await collect(readSequences(counted(csv), { format: 'csv', task: 'regression', groupBy: 'id' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).message).toBe(
      'data.csv:5:2: the rows of id "a" (from line 2) continue here after other ids; read as a stream, each sequence\'s rows must be together (sort the file by id)',
    );
    // the in-memory reader joins them
    expect([...parseCsv(csv, { task: 'regression', groupBy: 'id' }).lengths]).toEqual([3, 1]);
  });
});

describe('SequenceFile', () => {
  const cases: [string, string, SequenceSourceOptions, (t: string) => ReturnType<typeof parseCsv>][] = [
    ['CSV, one sequence per line', ONE_PER_LINE, { format: 'csv', task: 'classification' }, (t) => parseCsv(t, { task: 'classification' })],
    [
      'CSV, grouped rows (CRLF, multi-byte ids)',
      GROUPED,
      { format: 'csv', task: 'regression', groupBy: 'id', features: ['a', 'b'] },
      (t) => parseCsv(t, { task: 'regression', groupBy: 'id', features: ['a', 'b'] }),
    ],
    [
      'JSON Lines, per-step targets',
      ONE_PER_LINE.split('\n')
        .map((l) => {
          const [y, ...x] = l.split(',').map(Number);
          return JSON.stringify({ x: x.map((v) => [v, -v]), y: x.map(() => y) });
        })
        .join('\n'),
      { format: 'jsonl', task: 'classification', at: 'every' },
      (t) => parseJsonl(t, { task: 'classification', at: 'every' }),
    ],
  ];
  for (const [name, text, options, parse] of cases) {
    it(`${name}: the same lengths, sizes and batches as the dataset of the whole text`, async () => {
      const file = await SequenceFile.open(counted(text), { ...options, chunkBytes: 37 });
      const d = parse(text);
      expect([...file.lengths]).toEqual([...d.lengths]);
      expect([file.inputSize, file.targetSize, file.target, file.at]).toEqual([d.inputSize, d.targetSize, d.target, d.at]);
      const pick = new Rng(2);
      for (let k = 0; k < 5; k++) {
        const idx = Int32Array.from({ length: 1 + pick.int(8) }, () => pick.int(d.size));
        expect(await file.batch(idx)).toEqual(d.batch(idx));
      }
      const [a, b] = file.split(0.25, 9);
      const [c, e] = d.split(0.25, 9);
      expect([...a.lengths]).toEqual([...c.lengths]);
      expect((await b.load()).batch([0])).toEqual(e.batch([0]));
    });
  }

  it('fit on a SequenceFile gives the weights of fit on the SequenceDataset, bit for bit', async () => {
    const source = counted(GROUPED);
    const options = { task: 'regression', groupBy: 'id', features: ['a', 'b'] };
    const file = await SequenceFile.open(source, { ...options, format: 'csv', task: 'regression', chunkBytes: 100 });
    const d = parseCsv(GROUPED, { ...options, task: 'regression' });
    const weights = async (data: typeof file | typeof d): Promise<number[]> => {
      const m = await makeModel('wasm', { cell: 'gru', inputSize: 2, hiddenSize: 5, outputSize: 1, input: 'dense', seed: 3 });
      const t = new Trainer(m, { loss: d.lossSpec(), optimizer: { name: 'adam', lr: 0.01 } });
      await fit(t, data, { epochs: 3, batchSize: 4, seed: 5 });
      const w = m.parameterNames().flatMap((n) => [...m.getParameter(n)]);
      t.dispose();
      m.dispose();
      return w;
    };
    const before = source.bytesRead;
    const streamed = await weights(file);
    expect(source.bytesRead).toBeGreaterThan(before); // the batches were read from the source
    expect(streamed).toEqual(await weights(d));
  });
});
