// Safetensors files on disk: atomic saves (a crash before the rename leaves the previous file
// intact), reading with validation, and saveModel / loadModel round trips.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, InvalidArgumentError } from '../../src/errors.js';
import {
  commitTempFile,
  loadModel,
  readSafetensorsFile,
  saveModel,
  saveSafetensors,
  tempPathFor,
  writeTempFile,
} from '../../src/node/files.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/model/safetensors.js';
import { makeModel, simdCore, lcg, randn } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'unrolled-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fileA = encodeSafetensors([{ name: 'w', dtype: 'F32', shape: [3], data: new Float32Array([1, 2, 3]) }], { v: 'A' });
const fileB = encodeSafetensors([{ name: 'w', dtype: 'F32', shape: [2, 2], data: new Float32Array([4, 5, 6, 7]) }], { v: 'B' });
const strays = (d: string): string[] => readdirSync(d).filter((f) => f.includes('.tmp-'));

describe('saveSafetensors', () => {
  it('writes a file that decodes, leaves no temporary file, and replaces an existing file', async () => {
    const path = join(dir, 'a.safetensors');
    await saveSafetensors(path, fileA);
    expect((await readSafetensorsFile(path)).metadata).toEqual({ v: 'A' });
    expect(new Uint8Array(readFileSync(path))).toEqual(fileA);
    await saveSafetensors(path, fileB);
    const d = await readSafetensorsFile(path);
    expect(d.metadata).toEqual({ v: 'B' });
    expect(Array.from(d.tensors.get('w')!.data as Float32Array)).toEqual([4, 5, 6, 7]);
    expect(strays(dir)).toEqual([]);
  });

  it('a crash before the rename (temporary file written, complete or torn) leaves the previous file intact', async () => {
    const path = join(dir, 'crash.safetensors');
    await saveSafetensors(path, fileA);
    // the process dies after step 1: the new bytes are only in the temporary file
    const tmp = await writeTempFile(path, fileB);
    expect(tmp.startsWith(`${path}.tmp-${process.pid}-`)).toBe(true);
    expect(new Uint8Array(readFileSync(tmp))).toEqual(fileB);
    expect(new Uint8Array(readFileSync(path))).toEqual(fileA);
    expect((await readSafetensorsFile(path)).metadata).toEqual({ v: 'A' });
    // …or dies in the middle of writing it: a torn temporary file, the target still intact
    const torn = tempPathFor(path);
    writeFileSync(torn, fileB.subarray(0, fileB.length >> 1));
    expect(() => decodeSafetensors(new Uint8Array(readFileSync(torn)))).toThrow(CheckpointError);
    expect((await readSafetensorsFile(path)).metadata).toEqual({ v: 'A' });
    // the next save is not disturbed by the leftovers
    await saveSafetensors(path, fileB);
    expect((await readSafetensorsFile(path)).metadata).toEqual({ v: 'B' });
    // completing step 2 of the interrupted save publishes its bytes whole
    await commitTempFile(tmp, path);
    expect(new Uint8Array(readFileSync(path))).toEqual(fileB);
    rmSync(torn);
    expect(strays(dir)).toEqual([]);
  });

  it('temporary names are unique per save', () => {
    const a = tempPathFor('/x/m.safetensors'),
      b = tempPathFor('/x/m.safetensors');
    expect(a).toMatch(new RegExp(`^/x/m\\.safetensors\\.tmp-${process.pid}-[0-9a-f]{12}$`));
    expect(a).not.toBe(b);
  });

  it('a failed save leaves neither a target nor a temporary file', async () => {
    await expect(saveSafetensors(join(dir, 'missing-dir', 'x.safetensors'), fileA)).rejects.toThrow(/ENOENT/);
    const sub = join(dir, 'is-a-dir');
    mkdirSync(sub);
    await expect(saveSafetensors(sub, fileA)).rejects.toThrow(); // rename onto a directory fails
    expect(strays(dir)).toEqual([]);
    expect(readdirSync(sub)).toEqual([]);
    await expect(saveSafetensors(join(dir, 'y'), 'x' as never)).rejects.toThrow(InvalidArgumentError);
    await expect(saveSafetensors('', fileA)).rejects.toThrow(InvalidArgumentError);
  });

  it('readSafetensorsFile validates (CheckpointError) and applies limits', async () => {
    const path = join(dir, 'bad.safetensors');
    writeFileSync(path, fileA.subarray(0, 20));
    await expect(readSafetensorsFile(path)).rejects.toThrow(CheckpointError);
    await saveSafetensors(path, fileA);
    await expect(readSafetensorsFile(path, { maxHeaderBytes: 8 })).rejects.toThrow(/exceeds the limit of 8 bytes/);
  });
});

describe('saveModel / loadModel', () => {
  for (const backend of ['wasm', 'js'] as const) {
    for (const cell of ['rnn', 'lstm', 'gru'] as const) {
      it(`${backend} ${cell}: round trip with identical outputs`, async () => {
        const model = await makeModel(backend, { cell, inputSize: 6, hiddenSize: 10, outputSize: 3, numLayers: 2, seed: 11 });
        const path = join(dir, `${backend}-${cell}.safetensors`);
        await saveModel(model, path, { epoch: '3' });
        const back = await loadModel(path, backend === 'wasm' ? { backend, core: await simdCore() } : { backend });
        expect(back.config).toEqual(model.config);
        expect(back.stateDict()).toEqual(model.stateDict());
        const rand = lcg(5);
        const input = { x: randn(5 * 2 * 6, rand), T: 5, B: 2 };
        expect(back.predict(input)).toEqual(model.predict(input));
        expect((await readSafetensorsFile(path)).metadata.epoch).toBe('3');
        model.dispose();
        back.dispose();
      });
    }
  }

  it('loadModel rejects a corrupt file with a CheckpointError and a missing file with ENOENT', async () => {
    const path = join(dir, 'corrupt.safetensors');
    const model = await makeModel('js', { cell: 'gru', inputSize: 2, hiddenSize: 3, outputSize: 1 });
    await saveModel(model, path);
    const bytes = readFileSync(path);
    bytes[bytes.length - 1] = 0xff;
    bytes[bytes.length - 2] = 0xff;
    bytes[bytes.length - 3] = 0xff;
    bytes[bytes.length - 4] = 0xff; // a NaN weight
    writeFileSync(path, bytes);
    await expect(loadModel(path, { backend: 'js' })).rejects.toThrow(/tensor "head.bias" element 0 is NaN/);
    await expect(loadModel(join(dir, 'nope.safetensors'), { backend: 'js' })).rejects.toThrow(/ENOENT/);
    model.dispose();
  });
});
