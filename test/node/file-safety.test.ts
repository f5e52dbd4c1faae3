// Files as a careless or hostile user hands them over: symbolic links (followed to their target,
// which is replaced atomically; dangling links and loops refused), directories, missing
// directories, devices, permission bits that must survive a replacement, and text that is not
// UTF-8. Every failure is a FileError (code FILE) that names the path the caller gave.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FileError, UnrolledError } from '../../src/errors.js';
import { fileError, firstInvalidUtf8, readUtf8File, saveSafetensors, readSafetensorsFile, loadModel } from '../../src/node/files.js';
import { loadCheckpoint } from '../../src/node/checkpoint-files.js';
import { encodeSafetensors } from '../../src/model/safetensors.js';
import { tally } from '../cli/tally.js';

const dir = mkdtempSync(join(tmpdir(), 'unrolled-file-safety-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const count = tally('test/node/file-safety.test.ts');
const p = (name: string): string => join(dir, name);

const fileA = encodeSafetensors([{ name: 'w', dtype: 'F32', shape: [1], data: new Float32Array([1]) }], { v: 'A' });
const fileB = encodeSafetensors([{ name: 'w', dtype: 'F32', shape: [2], data: new Float32Array([2, 3]) }], { v: 'B' });
const strays = (d: string): string[] => readdirSync(d).filter((f) => f.includes('.tmp-'));

async function fileErr(promise: Promise<unknown>, errno: string, path: string): Promise<FileError> {
  const e = await promise.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(FileError);
  const f = e as FileError;
  expect(f.code).toBe('FILE');
  expect(f.errno).toBe(errno);
  expect(f.path).toBe(path);
  expect(f.message.startsWith(`${path}: `)).toBe(true);
  expect(f.message).not.toMatch(/\n/);
  count.add('5 files', 'typed error');
  return f;
}

describe('writing: symbolic links follow one rule', () => {
  it('a link to a file: the target is replaced atomically, the link stays a link', async () => {
    mkdirSync(p('real'));
    writeFileSync(p('real/model.safetensors'), fileA);
    symlinkSync(p('real/model.safetensors'), p('link.safetensors'));
    await saveSafetensors(p('link.safetensors'), fileB);
    expect(lstatSync(p('link.safetensors')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(p('link.safetensors'))).toBe(p('real/model.safetensors'));
    expect(new Uint8Array(readFileSync(p('real/model.safetensors')))).toEqual(fileB);
    expect(strays(dir)).toEqual([]);
    expect(strays(p('real'))).toEqual([]);
    count.add('5 files', 'correct behaviour');
  });

  it('a relative link through another link is followed to the end', async () => {
    writeFileSync(p('real/rel.safetensors'), fileA);
    symlinkSync('real/rel.safetensors', p('rel1'));
    symlinkSync('rel1', p('rel2'));
    await saveSafetensors(p('rel2'), fileB);
    expect(lstatSync(p('rel2')).isSymbolicLink()).toBe(true);
    expect(lstatSync(p('rel1')).isSymbolicLink()).toBe(true);
    expect(new Uint8Array(readFileSync(p('real/rel.safetensors')))).toEqual(fileB);
    count.add('5 files', 'correct behaviour');
  });

  it('a dangling link is refused (nothing is created)', async () => {
    symlinkSync(p('nowhere/x.safetensors'), p('dangling'));
    const e = await fileErr(saveSafetensors(p('dangling'), fileA), 'ENOENT', p('dangling'));
    expect(e.message).toMatch(/symbolic link to a file that does not exist/);
    symlinkSync(p('missing.safetensors'), p('dangling2'));
    await fileErr(saveSafetensors(p('dangling2'), fileA), 'ENOENT', p('dangling2'));
    expect(() => statSync(p('missing.safetensors'))).toThrow();
  });

  it('a loop of links is ELOOP, for writing and reading', async () => {
    symlinkSync(p('loopB'), p('loopA'));
    symlinkSync(p('loopA'), p('loopB'));
    await fileErr(saveSafetensors(p('loopA'), fileA), 'ELOOP', p('loopA'));
    await fileErr(readSafetensorsFile(p('loopA')), 'ELOOP', p('loopA'));
    await fileErr(readUtf8File(p('loopB')), 'ELOOP', p('loopB'));
  });
});

describe('writing: what is refused, with the path named', () => {
  it('a directory (as such, through a link, or with a trailing slash)', async () => {
    mkdirSync(p('adir'));
    await fileErr(saveSafetensors(p('adir'), fileA), 'EISDIR', p('adir'));
    symlinkSync(p('adir'), p('dirlink'));
    await fileErr(saveSafetensors(p('dirlink'), fileA), 'EISDIR', p('dirlink'));
    await fileErr(saveSafetensors(`${p('adir')}/`, fileA), 'EISDIR', `${p('adir')}/`);
    expect(readdirSync(p('adir'))).toEqual([]);
  });

  it('a missing directory (ENOENT) and a file used as a directory (ENOTDIR)', async () => {
    await fileErr(saveSafetensors(p('no/such/dir/x.safetensors'), fileA), 'ENOENT', p('no/such/dir/x.safetensors'));
    writeFileSync(p('plain.txt'), 'x');
    await fileErr(saveSafetensors(p('plain.txt/x.safetensors'), fileA), 'ENOTDIR', p('plain.txt/x.safetensors'));
    await fileErr(readSafetensorsFile(p('plain.txt/x.safetensors')), 'ENOTDIR', p('plain.txt/x.safetensors'));
  });

  it.runIf(process.platform === 'linux')('a device is never replaced (/dev/null through a link)', async () => {
    symlinkSync('/dev/null', p('devlink'));
    await fileErr(saveSafetensors(p('devlink'), fileA), 'EINVAL', p('devlink'));
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it('a read-only directory or file system: EACCES or EROFS where the platform gives them', async () => {
    // tests run as root here: chmod does not keep root out, so EACCES cannot be provoked by a
    // permission bit. /proc's root refuses new files to everyone (ENOENT on Linux).
    if (process.platform === 'linux')
      await fileErr(saveSafetensors('/proc/unrolled-x.safetensors', fileA), 'ENOENT', '/proc/unrolled-x.safetensors');
    if (process.getuid?.() !== 0) {
      mkdirSync(p('ro'));
      chmodSync(p('ro'), 0o500);
      await fileErr(saveSafetensors(p('ro/x.safetensors'), fileA), 'EACCES', p('ro/x.safetensors'));
      chmodSync(p('ro'), 0o700);
    }
  });

  it('every errno maps to a FileError that names the path (EACCES, ENOSPC, EROFS, EDQUOT, EIO, unknown)', () => {
    for (const code of ['EACCES', 'EPERM', 'ENOSPC', 'EROFS', 'EDQUOT', 'EIO', 'EMFILE', 'EWHATEVER']) {
      const sys = Object.assign(new Error(`${code}: something, open '/x/y'`), { code });
      const e = fileError(sys, '/x/y', 'write') as FileError;
      expect(e).toBeInstanceOf(FileError);
      expect(e.errno).toBe(code);
      expect(e.message).toMatch(new RegExp(`^/x/y: cannot write: .+ \\(${code}\\)$`));
      count.add('5 files', 'typed error');
    }
    const other = new TypeError('not a system error');
    expect(fileError(other, '/x', 'read')).toBe(other);
  });
});

describe('EACCES, ENOSPC and EROFS for real (root only: another user, a tiny and a read-only file system)', () => {
  const root = process.platform === 'linux' && process.getuid?.() === 0;
  const dist = join(process.cwd(), 'dist/node/files.js');

  /** saveSafetensors / readUtf8File run by the user nobody (uid 65534), from dist/. */
  function asNobody(op: 'save' | 'read', path: string): { name: string; code: string; errno: string; message: string } {
    const script = `import { saveSafetensors, readUtf8File } from ${JSON.stringify(dist)};
      try { ${op === 'save' ? `await saveSafetensors(${JSON.stringify(path)}, new Uint8Array(16))` : `await readUtf8File(${JSON.stringify(path)})`}; console.log('{}'); }
      catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, errno: e.errno, message: e.message })); }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' });
    return JSON.parse(r.stdout.trim() || '{}');
  }

  it.runIf(root)('EACCES: a directory and a file the user may not write or read', () => {
    if (!existsSync(dist)) throw new Error('dist/node/files.js is missing: run `npm run build:ts` first');
    chmodSync(dir, 0o755);
    mkdirSync(p('locked'), { mode: 0o755 });
    writeFileSync(p('locked/secret.txt'), 'x', { mode: 0o600 });
    const w = asNobody('save', p('locked/x.safetensors'));
    expect(w).toMatchObject({ name: 'FileError', code: 'FILE', errno: 'EACCES' });
    expect(w.message).toBe(`${p('locked/x.safetensors')}: cannot write: permission denied (EACCES)`);
    const r = asNobody('read', p('locked/secret.txt'));
    expect(r).toMatchObject({ name: 'FileError', code: 'FILE', errno: 'EACCES' });
    expect(readdirSync(p('locked'))).toEqual(['secret.txt']);
    count.add('5 files', 'typed error', 2);
  });

  const mountPoint = p('tiny');
  let mounted = false;
  afterAll(() => {
    if (mounted) spawnSync('umount', [mountPoint]);
  });

  it.runIf(root)(
    'ENOSPC on a full file system, then EROFS on a read-only one: the previous file intact, no temporary file left',
    async () => {
      mkdirSync(mountPoint);
      const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint], { encoding: 'utf8' });
      if (m.status !== 0) return; // no mount in this container: the mapping test above covers the words
      mounted = true;
      const path = join(mountPoint, 'm.safetensors');
      await saveSafetensors(path, fileA);
      const big = encodeSafetensors([{ name: 'w', dtype: 'F32', shape: [50_000], data: new Float32Array(50_000) }], {});
      await fileErr(saveSafetensors(path, big), 'ENOSPC', path);
      expect(new Uint8Array(readFileSync(path))).toEqual(fileA);
      expect(strays(mountPoint)).toEqual([]);
      expect(spawnSync('mount', ['-o', 'remount,ro', mountPoint]).status).toBe(0);
      await fileErr(saveSafetensors(path, fileB), 'EROFS', path);
      expect(new Uint8Array(readFileSync(path))).toEqual(fileA);
    },
  );
});

describe('writing: permissions survive a replacement', () => {
  it.each([0o600, 0o640, 0o755, 0o444, 0o4755])('mode %o is kept', async (mode) => {
    const path = p(`mode-${mode.toString(8)}.safetensors`);
    writeFileSync(path, fileA);
    chmodSync(path, mode);
    await saveSafetensors(path, fileB);
    expect(statSync(path).mode & 0o7777).toBe(mode);
    expect(new Uint8Array(readFileSync(path))).toEqual(fileB);
    count.add('5 files', 'correct behaviour');
  });

  it('through a link, the target keeps its mode', async () => {
    writeFileSync(p('real/moded'), fileA);
    chmodSync(p('real/moded'), 0o600);
    symlinkSync(p('real/moded'), p('modelink'));
    await saveSafetensors(p('modelink'), fileB);
    expect(statSync(p('real/moded')).mode & 0o777).toBe(0o600);
    count.add('5 files', 'correct behaviour');
  });
});

describe('reading: missing files, directories', () => {
  it('ENOENT and EISDIR name the path (models, checkpoints, safetensors, text)', async () => {
    await fileErr(loadModel(p('none.safetensors')), 'ENOENT', p('none.safetensors'));
    await fileErr(loadCheckpoint(p('none.ckpt')), 'ENOENT', p('none.ckpt'));
    await fileErr(readUtf8File(p('none.txt')), 'ENOENT', p('none.txt'));
    await fileErr(loadModel(dir), 'EISDIR', dir);
    await fileErr(readUtf8File(dir), 'EISDIR', dir);
  });
});

describe('text must be UTF-8', () => {
  it.each([
    ['a lone continuation byte', [0x61, 0x80, 0x62], 1],
    ['an overlong slash', [0x61, 0x62, 0xc0, 0xaf], 2],
    ['an overlong 3-byte form', [0xe0, 0x80, 0xaf], 0],
    ['a UTF-16 surrogate', [0x41, 0xed, 0xa0, 0x80], 1],
    ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 0],
    ['cut off at the end', [0x68, 0x69, 0xe2, 0x82], 2],
    ['Latin-1', [...Buffer.from('caf'), 0xe9, 0x0a], 3],
    ['0xff', [0xff], 0],
  ])('%s: refused with the byte offset', async (_name, bytes, offset) => {
    const path = p(`bad-${offset}-${bytes.length}-${bytes[bytes.length - 1]}.txt`);
    writeFileSync(path, Uint8Array.from(bytes));
    const e = await fileErr(readUtf8File(path), 'EILSEQ', path);
    expect(e.message).toMatch(new RegExp(`not valid UTF-8: the byte 0x[0-9a-f]{2} at offset ${offset} `));
  });

  it('valid text (with a byte order mark, astral characters) reads as it is', async () => {
    const text = '\ufeffhé 🙂 日本\n';
    writeFileSync(p('good.txt'), text);
    expect(await readUtf8File(p('good.txt'))).toBe(text);
    count.add('5 files', 'correct behaviour');
  });

  it('property: the offset is that of the first byte the strict decoder rejects (random bytes)', () => {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let invalid = 0,
      valid = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 40 }),
          fc.string({ unit: 'binary', maxLength: 20 }).map((s) => new Uint8Array(Buffer.from(s, 'utf8'))),
          fc
            .tuple(fc.string({ unit: 'binary', maxLength: 10 }), fc.uint8Array({ minLength: 1, maxLength: 4 }), fc.string({ maxLength: 5 }))
            .map(([a, b, c]) => new Uint8Array([...Buffer.from(a, 'utf8'), ...b, ...Buffer.from(c, 'utf8')])),
        ),
        (bytes) => {
          const at = firstInvalidUtf8(bytes);
          let ok = true;
          try {
            decoder.decode(bytes);
          } catch {
            ok = false;
          }
          expect(at === -1).toBe(ok);
          if (at >= 0) {
            // everything before the offset decodes; the byte there cannot start a valid character
            expect(() => decoder.decode(bytes.subarray(0, at))).not.toThrow();
            invalid++;
          } else valid++;
        },
      ),
      { numRuns: 3000, seed: 12 },
    );
    count.add('5 files (random bytes)', 'typed error', invalid);
    count.add('5 files (random bytes)', 'correct behaviour', valid);
  });
});

describe('every FileError is an UnrolledError', () => {
  it('instanceof and code', () => {
    const e = new FileError('/a', 'cannot read: x', 'ENOENT');
    expect(e).toBeInstanceOf(UnrolledError);
    expect(e.name).toBe('FileError');
  });
});
