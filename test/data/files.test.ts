// CSV and JSON Lines into datasets: ragged lengths round-trip into batches, rows grouped by an id,
// and bad rows refused with a DataError naming the line (and, for CSV, the column).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError, FileError } from '../../src/errors.js';
import { parseCsv, parseJsonl, type TableOptions } from '../../src/data/tables.js';
import { openSequenceFile, readSequenceFile } from '../../src/node/data-files.js';
import { Rng } from '../../src/model/rng.js';

function ragged(n: number, seed: number): { x: number[][]; label: number[]; y: number[][] } {
  const rng = new Rng(seed);
  const x: number[][] = [],
    label: number[] = [],
    y: number[][] = [];
  for (let i = 0; i < n; i++) {
    const len = 1 + rng.int(9);
    x.push(Array.from({ length: len }, () => Math.round(rng.normal() * 1000) / 1000));
    y.push(Array.from({ length: len }, () => rng.int(3)));
    label.push(rng.int(4));
  }
  return { x, label, y };
}

function dataError(f: () => unknown): DataError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error('no error');
}

describe('CSV and JSON Lines', () => {
  it('CSV, one labelled sequence per line with ragged lengths, round-trips into batches', () => {
    const { x, label } = ragged(30, 1);
    const text = `${x.map((s, i) => [label[i], ...s].join(',')).join('\r\n')}\n\n`;
    const d = parseCsv(text, { task: 'classification' });
    expect(d.size).toBe(30);
    expect(d.targetSize).toBe(Math.max(...label) + 1);
    expect(d.at).toBe('last');
    const b = d.batch([3, 7, 11]);
    expect(b.T).toBe(Math.max(x[3].length, x[7].length, x[11].length));
    expect([...b.lengths]).toEqual([x[3].length, x[7].length, x[11].length]);
    [3, 7, 11].forEach((i, j) => {
      for (let t = 0; t < x[i].length; t++) expect(b.x[t * 3 + j]).toBe(Math.fround(x[i][t]));
      expect(b.y[j]).toBe(label[i]);
    });
    // the label at the end, and two values per step
    const two = parseCsv('0.5,1,2,3,9\n1,2,7\n', { task: 'regression', label: 'last', inputSize: 2 });
    expect([...two.lengths]).toEqual([2, 1]);
    expect([...two.batch([0]).y]).toEqual([9]);
  });

  it('JSONL, one sequence per line, per-step targets and feature vectors', () => {
    const { x, y } = ragged(20, 2);
    const text = x.map((s, i) => JSON.stringify({ x: s.map((v) => [v, -v]), y: y[i] })).join('\n');
    const d = parseJsonl(text, { task: 'classification' });
    expect(d.inputSize).toBe(2);
    expect(d.at).toBe('every');
    expect([...d.lengths]).toEqual(x.map((s) => s.length));
    const b = d.batch([0, 5]);
    for (let t = 0; t < x[5].length; t++) {
      expect(b.x[(t * 2 + 1) * 2]).toBe(Math.fround(x[5][t]));
      expect(b.x[(t * 2 + 1) * 2 + 1]).toBe(Math.fround(-x[5][t]));
      expect(b.y[t * 2 + 1]).toBe(y[5][t]);
    }
    const reg = parseJsonl('{"inp":[1,2,3],"out":[0.5,1]}\n{"inp":[4],"out":[2,3]}', {
      task: 'regression',
      at: 'last',
      x: 'inp',
      y: 'out',
    });
    expect(reg.targetSize).toBe(2);
    expect([...reg.batch([0, 1]).y]).toEqual([0.5, 1, 2, 3]);
  });

  it('rows grouped by an id column, in file order even when interleaved (CSV and JSONL alike)', () => {
    const csv = 'id,a,b,target\ns1,1,10,0.1\ns2,2,20,0.2\ns1,3,30,0.3\ns1,5,50,0.5\ns2,4,40,0.4\n';
    const d = parseCsv(csv, { task: 'regression', groupBy: 'id' });
    expect([...d.lengths]).toEqual([3, 2]);
    expect(d.inputSize).toBe(2);
    const b = d.batch([0]);
    expect([...b.x]).toEqual([1, 10, 3, 30, 5, 50]);
    expect([...b.y]).toEqual([0.1, 0.3, 0.5].map(Math.fround));
    const last = parseCsv(csv, { task: 'regression', groupBy: 'id', at: 'last', features: ['b'], targets: ['target'] });
    expect([...last.batch([0, 1]).y]).toEqual([0.5, 0.4].map(Math.fround));
    expect([...last.batch([1]).x]).toEqual([20, 40]);
    const jsonl = csv
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => {
        const [id, a, b, t] = l.split(',');
        return JSON.stringify({ id, a: +a, b: +b, target: +t });
      })
      .join('\n');
    const j = parseJsonl(jsonl, { task: 'regression', groupBy: 'id', features: ['a', 'b'], targets: ['target'] });
    expect([...j.batch([0, 1]).x]).toEqual([...d.batch([0, 1]).x]);
    expect([...j.batch([0, 1]).y]).toEqual([...d.batch([0, 1]).y]);
  });

  it('bad rows name the line and the column', () => {
    const o: TableOptions = { task: 'regression', source: 'series.csv' };
    let e = dataError(() => parseCsv('1,2,3\n1,x,3\n', o));
    expect([e.code, e.source, e.line, e.column]).toEqual(['BAD_DATA', 'series.csv', 2, 2]);
    expect(e.message).toMatch(/^series\.csv:2:2: value: expected a number, got "x"/);
    e = dataError(() => parseCsv('1,2\n\n1,NaN\n', o));
    expect([e.line, e.column]).toEqual([3, 2]);
    e = dataError(() => parseCsv('1,2\n1,,3\n', o));
    expect(e.message).toMatch(/2:2: value: expected a number, got an empty field/);
    e = dataError(() => parseCsv('1,2\n1,1e999\n', o));
    expect(e.message).toMatch(/float32 range/);
    e = dataError(() => parseCsv('1,2\n7\n', o));
    expect(e.message).toMatch(/series\.csv:2: an empty sequence/);
    e = dataError(() => parseCsv('1.5,2\n', { task: 'classification' }));
    expect(e.message).toMatch(/data:1:1: label: expected a class label/);
    e = dataError(() => parseCsv('id,a,y\nq,1,2\nq,1\n', { ...o, groupBy: 'id' }));
    expect(e.message).toBe('series.csv:3: 2 fields, expected 3 as in the header');
    e = dataError(() => parseCsv('id,a,y\n', { ...o, groupBy: 'ID' }));
    expect(e.message).toMatch(/no id column "ID"/);
    const j: TableOptions = { task: 'classification', source: 'seq.jsonl' };
    e = dataError(() => parseJsonl('{"x":[1],"y":[0]}\n{"x":[1, NaN],"y":[0,1]}', j));
    expect(e.message).toMatch(/^seq\.jsonl:2: not valid JSON/);
    e = dataError(() => parseJsonl('{"x":[],"y":[]}', j));
    expect(e.message).toBe('seq.jsonl:1: x: an empty sequence');
    e = dataError(() => parseJsonl('{"x":[1],"y":[0]}\n{"x":[1,"2"],"y":[0,1]}', j));
    expect(e.message).toMatch(/seq\.jsonl:2: x\[1\]\[0\]: expected a number, got "2"/);
    e = dataError(() => parseJsonl('{"x":[[1,2]],"y":[0]}\n\n{"x":[[1]],"y":[0]}', j));
    expect(e.message).toMatch(/seq\.jsonl:3: x\[0\]: expected 2 values per step/);
    e = dataError(() => parseJsonl('{"x":[1,2],"y":[0]}', j));
    expect(e.message).toMatch(/one target per step \(2\)/);
    expect(() => parseCsv('1,2', { task: 'regression', gropuBy: 'id' } as never)).toThrow(/gropuBy.*groupBy/);
    expect(() => parseCsv('1,2', { task: 'regression', at: 'every' })).toThrow(/options\.at/);
  });

  it('readSequenceFile reads .csv and .jsonl files and names the path in its errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'unrolled-files-'));
    writeFileSync(join(dir, 'a.csv'), '0,1,2\n1,3\n');
    writeFileSync(join(dir, 'b.jsonl'), '{"x":[1,2],"y":1}\n{"x":[3],"y":"0"}\n');
    const a = await readSequenceFile(join(dir, 'a.csv'), { task: 'classification' });
    expect([...a.lengths]).toEqual([2, 1]);
    const err = await readSequenceFile(join(dir, 'b.jsonl'), { task: 'classification', at: 'last' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).message).toBe(`${join(dir, 'b.jsonl')}:2: y[0]: expected a number, got "0"`);
    await expect(readSequenceFile(join(dir, 'missing.csv'), { task: 'regression' })).rejects.toBeInstanceOf(FileError);
    await expect(readSequenceFile(join(dir, 'a.csv'), { task: 'regression', format: 'tsv' } as never)).rejects.toThrow(/format/);
  });

  it('openSequenceFile streams a file in pieces: the batches of readSequenceFile; interleaved ids refused naming the path and line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'unrolled-files-'));
    const rows = ['id,a,y'];
    for (let s = 0; s < 25; s++) for (let t = 0; t <= s % 4; t++) rows.push(`q${s},${s + t / 8},${(s * t) % 3}`);
    const path = join(dir, 'g.csv');
    writeFileSync(path, rows.join('\n'));
    const options = { task: 'classification', groupBy: 'id', chunkBytes: 50 } as const;
    const file = await openSequenceFile(path, options);
    const whole = await readSequenceFile(path, options);
    expect([...file.lengths]).toEqual([...whole.lengths]);
    expect(await file.batch([24, 3, 7])).toEqual(whole.batch([24, 3, 7]));
    await file.close();
    const mixed = join(dir, 'mixed.csv');
    writeFileSync(mixed, [...rows, 'q3,1,1'].join('\n'));
    const err = await openSequenceFile(mixed, options).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).message).toMatch(
      new RegExp(`^${mixed.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${rows.length + 1}:1: the rows of id "q3"`),
    );
    expect((await readSequenceFile(mixed, options)).size).toBe(25);
  });
});
