// The command line as a careless or hostile user drives it (issue classes 4, 5 and 6 at the CLI):
// flags given twice, numbers that are not decimal, seeds that are not numbers, misspelt flags,
// random argument lists (fast-check), outputs that are inputs (same path, a symbolic link, a hard
// link, a detour through ..), files that are directories, loops, missing or not UTF-8, files that
// are not checkpoints, model files from saveModel, and, on the real process, Ctrl-C during
// `sample` and `train` and a reader that goes away (| head -c 10).
//
// Every case must end in exit 0 with the right result, or in exactly one line on stderr that
// starts with "unrolled: " (no stack trace) and exit code 2 (1 for a failing disk or gradcheck's
// FAIL verdict). The tallies printed at the end count the cases per class and outcome.
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CharVocab } from '../../src/data/vocab.js';
import { CORPUS } from '../../src/data/corpus.js';
import { encodeSafetensors } from '../../src/model/safetensors.js';
import { saveModel } from '../../src/node/files.js';
import { loadCheckpoint } from '../../src/node/checkpoint-files.js';
import { commandFlagNames, flagFor, type Command, type FlagName } from '../../src/cli/flags.js';
import { main } from '../../src/cli/main.js';
import { run, tempDir, type Run } from './helpers.js';
import { tally } from './tally.js';

const tmp = tempDir('unrolled-cli-adv-');
afterAll(() => tmp.remove());
const count = tally('test/cli/adversarial.test.ts');
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/unrolled.js');

const COMMANDS: Command[] = ['train', 'sample', 'eval', 'bench', 'gradcheck', 'fit'];
const TINY = ['--hidden', '4', '--seq', '4', '--batch', '2', '--sample', '0'];

/** main() with the output collected, nothing parsed (random lists may ask for --json and --help at once). */
async function runRaw(argv: string[]): Promise<Run> {
  const out: string[] = [],
    err: string[] = [];
  const code = await main(argv, {
    out: (l) => {
      out.push(...l.split('\n'));
    },
    err: (l) => {
      err.push(...l.split('\n'));
    },
  });
  return { code, out, err, json: [] };
}

/** The one-line refusal every mistake must end in. */
function refused(r: Run, message?: RegExp, code = 2): void {
  expect(r.code, r.err.join('\n')).toBe(code);
  expect(r.err).toHaveLength(1);
  expect(r.err[0]).toMatch(/^unrolled: /);
  expect(r.err[0]).not.toMatch(/\n|\bat .*:\d+:\d+/);
  if (message) expect(r.err[0]).toMatch(message);
}

const sha = (path: string): string => readFileSync(path).toString('base64');

// files shared by the cases
const TEXT = tmp.path('book.txt');
const CKPT = tmp.path('tiny.ckpt');
const TEXT_CKPT = tmp.path('book.ckpt');
const MODEL = tmp.path('model.safetensors');
const MODEL_NO_VOCAB = tmp.path('model-no-vocab.safetensors');
const CORPUS_FILE = tmp.path('corpus.txt');
/** A copy for the random argument lists, which may overwrite it. */
const FUZZ_CKPT = tmp.path('fuzz.ckpt');

beforeAll(async () => {
  writeFileSync(TEXT, 'the quick brown fox jumps over the lazy dog. '.repeat(4));
  writeFileSync(CORPUS_FILE, CORPUS);
  expect((await run(['train', ...TINY, '--steps', '2', '--checkpoint', CKPT])).code).toBe(0);
  expect((await run(['train', ...TINY, '--steps', '1', '--text', TEXT, '--checkpoint', TEXT_CKPT])).code).toBe(0);
  const { model, trainer } = await loadCheckpoint(CKPT, { core: { reproducible: true } });
  trainer.dispose();
  await saveModel(model, MODEL, { unrolled_vocab: JSON.stringify(CharVocab.fromText(CORPUS).toJSON()), unrolled_steps: '2' });
  await saveModel(model, MODEL_NO_VOCAB);
  model.dispose();
  writeFileSync(FUZZ_CKPT, readFileSync(CKPT));
});

/** A valid value of a flag for `command` (to give it twice). */
function validValue(command: Command, name: FlagName): string | null {
  const def = flagFor(command, name);
  switch (def.kind) {
    case 'boolean':
      return null;
    case 'choice':
      return String(def.default ?? def.choices![0]);
    case 'int':
    case 'number':
      return String(def.default ?? def.domain!.min ?? 1);
    case 'file':
      return TEXT;
    default:
      return ({ tbptt: '4,4', schedule: 'constant', backends: 'js', prime: 'a' } as Record<string, string>)[name] ?? 'x';
  }
}

const positional = (c: Command): string[] => (c === 'sample' || c === 'eval' ? [CKPT] : []);

describe('class 4: flags given twice are refused, whatever the flag', () => {
  for (const c of COMMANDS) {
    const names = commandFlagNames(c).filter((n) => n !== 'help');
    it(`${c}: each of its ${names.length} flags`, async () => {
      for (const name of names) {
        const v = validValue(c, name);
        const once = v === null ? [`--${name}`] : [`--${name}=${v}`];
        const r = await run([c, ...positional(c), ...once, ...(v === null ? [`--${name}`] : [`--${name}`, v])]);
        refused(r, new RegExp(`--${name} is given twice`));
        count.add('4 CLI: repeated flag', 'typed error');
      }
    });
  }
});

const NOT_DECIMAL = [
  '0x10',
  '0X1f',
  '0b1',
  '0o7',
  '1_000',
  'Infinity',
  '-Infinity',
  'NaN',
  ' 5',
  '5 ',
  '',
  '1e',
  '.',
  '+-1',
  '\u0663',
  '1,5',
  '1.5.2',
  '0x',
  'abc',
  '1e400',
  '-0x1',
  '5px',
  'true',
  '[1]',
  '١٢',
];

describe('class 4: numbers must be decimal', () => {
  for (const c of COMMANDS) {
    const numeric = commandFlagNames(c).filter(
      (n) =>
        ['int', 'number'].includes(flagFor(c, n).kind) &&
        !(c === 'gradcheck' && ['lr', 'momentum', 'weight-decay', 'clip', 'clip-value'].includes(n)) &&
        !(c === 'bench' && n === 'backend'),
    );
    it(`${c}: ${numeric.length} numeric flags x ${NOT_DECIMAL.length} non-decimal values`, async () => {
      for (const name of numeric) {
        const extra = name === 'checkpoint-every' ? ['--checkpoint', tmp.path('every.ckpt')] : [];
        for (const bad of NOT_DECIMAL) {
          const r = await run([c, ...positional(c), ...extra, `--${name}=${bad}`]);
          refused(r, new RegExp(`--${name}: expected `));
          expect(r.err[0]).toContain(JSON.stringify(bad));
          count.add('4 CLI: non-decimal number', 'typed error');
        }
      }
    });
  }

  it('decimal forms are read as written (1e-3, +5, 5.0, 1E2, .5)', async () => {
    const { parse, Flags } = await import('../../src/cli/args.js');
    const read = (argv: string[], flag: FlagName, kind: 'int' | 'float'): number => {
      const f = new Flags('train', parse('train', argv));
      return kind === 'int' ? f.int(flag) : f.float(flag);
    };
    expect(read(['--lr', '1e-3'], 'lr', 'float')).toBe(0.001);
    expect(read(['--lr=2E-3'], 'lr', 'float')).toBe(0.002);
    expect(read(['--hidden', '+5'], 'hidden', 'int')).toBe(5);
    expect(read(['--hidden', '5.0'], 'hidden', 'int')).toBe(5);
    expect(read(['--steps', '1E2'], 'steps', 'int')).toBe(100);
    expect(read(['--temperature', '.5'], 'temperature', 'float')).toBe(0.5);
    expect(read(['--clip', '0'], 'clip', 'float')).toBe(0);
    count.add('4 CLI: non-decimal number', 'correct behaviour', 7);
  });

  it('--schedule and --tbptt: hex and the like inside a spec are refused too', async () => {
    for (const spec of [
      'step:size=0x10',
      'cosine:total=1e400',
      'exponential:gamma=0x1',
      'cosine:warmup=1_0',
      'step:size=10,gamma=NaN',
      'exponential:gamma=0',
    ]) {
      refused(await run(['train', '--schedule', spec]), /--schedule: /);
      count.add('4 CLI: non-decimal number', 'typed error');
    }
    for (const spec of ['0x4', '4,0x8', '4,2', '-1', '1e1', '4,8,16', '16777217']) {
      refused(await run(['train', `--tbptt=${spec}`]), /--tbptt: expected k1,k2/);
      count.add('4 CLI: non-decimal number', 'typed error');
    }
  });
});

describe('class 4: seeds', () => {
  const BAD = ['abc', '-1', '4294967296', '1.5', '0x1', '', ' 1', '1e10', 'NaN', 'seed'];
  it.each(['train', 'sample', 'eval', 'bench', 'gradcheck'] as Command[])(
    '%s --seed: not a number, negative, 2^32, a fraction: refused',
    async (c) => {
      for (const bad of BAD) {
        refused(await run([c, ...positional(c), `--seed=${bad}`]), /--seed: expected an integer in \[0, 2\^32\)/);
        count.add('4 CLI: bad seed', 'typed error');
      }
    },
  );

  it('the largest seed works', async () => {
    const r = await run(['train', ...TINY, '--steps', '1', '--seed', '4294967295', '--json']);
    expect(r.code).toBe(0);
    expect(r.json[0].seed).toBe(4294967295);
    count.add('4 CLI: bad seed', 'correct behaviour');
  });
});

describe('class 4: unknown flags name the nearest one', () => {
  it.each([
    ['train', '--hiden', /did you mean --hidden\?/],
    ['train', '--layer', /did you mean --layers\?/],
    ['train', '--sead', /did you mean --seed\?/],
    ['train', '--step', /did you mean --steps\?/],
    ['train', '--weight_decay', /did you mean --weight-decay\?/],
    ['train', '--check-point', /did you mean --checkpoint\?/],
    ['train', '--tempreature', /did you mean --temperature\?/],
    ['train', '--Hidden', /did you mean --hidden\?/],
    ['train', '--length', /it is a flag of unrolled sample, not of train/],
    ['train', '--batches', /did you mean --batch\? --batches is a flag of unrolled eval, not of train/],
    ['sample', '--steps', /it is a flag of unrolled train.*not of sample/],
    ['sample', '--lenght', /did you mean --length\?/],
    ['eval', '--bacthes', /did you mean --batches\?/],
    ['bench', '--max-step', /did you mean --max-steps\?/],
    ['gradcheck', '--sample', /did you mean --samples\? --sample is a flag of unrolled train, not of gradcheck\)/],
    ['train', '--frobnicate', /unknown option --frobnicate \(see/],
    ['train', '-x', /unknown option -x/],
  ] as const)('%s %s', async (c, flag, message) => {
    refused(await run([c, ...positional(c), flag]), message);
    count.add('4 CLI: unknown flag', 'typed error');
  });

  it('a misspelt command names the nearest one', async () => {
    refused(await run(['trian']), /unknown command "trian" \(did you mean train\?/);
    refused(await run(['smaple', CKPT]), /did you mean sample\?/);
    count.add('4 CLI: unknown flag', 'typed error', 2);
  });

  it('control characters in a flag cannot reach the terminal', async () => {
    const r = await run(['train', '--\u001b[31mred']);
    refused(r, /unknown option/);
    expect(r.err[0]).not.toContain('\u001b');
    count.add('4 CLI: unknown flag', 'typed error');
  });
});

describe('issue 11: what a newcomer meets', () => {
  it('a bare `unrolled` prints the help and exits 0 (no training run)', async () => {
    const r = await run([]);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toMatch(/^unrolled: train recurrent networks/);
    expect(r.out.join('\n')).not.toMatch(/step \d+/);
    count.add('11 CLI: newcomer', 'correct behaviour');
  });

  it.each([
    [
      'a text file',
      () => {
        writeFileSync(tmp.path('notes.txt'), 'A hills were green and the sky was blue.\n');
        return tmp.path('notes.txt');
      },
      /notes.txt is not a checkpoint or model file: it is a text file \(it starts with "A hills/,
    ],
    [
      'an empty file',
      () => {
        writeFileSync(tmp.path('empty.bin'), '');
        return tmp.path('empty.bin');
      },
      /is not a checkpoint or model file: it is empty/,
    ],
    [
      '5 random bytes',
      () => {
        writeFileSync(tmp.path('five.bin'), Uint8Array.from([1, 2, 3, 250, 0]));
        return tmp.path('five.bin');
      },
      /is not a checkpoint or model file: it does not start with a safetensors header/,
    ],
    [
      'a JSON file',
      () => {
        writeFileSync(tmp.path('x.json'), '{"format":"unrolled"}');
        return tmp.path('x.json');
      },
      /is not a checkpoint or model file: it is a text file/,
    ],
    [
      'a safetensors file of someone else',
      () => {
        writeFileSync(
          tmp.path('torch.safetensors'),
          encodeSafetensors([{ name: 'w', dtype: 'F32', shape: [1], data: new Float32Array([1]) }], { format: 'pt' }),
        );
        return tmp.path('torch.safetensors');
      },
      /is a safetensors file, but not a checkpoint or model file of unrolled \(its format is "pt"/,
    ],
    ['a directory', () => tmp.dir, /cannot read: is a directory \(EISDIR\)/],
  ])('sample and eval on %s: says what it is, in one line', async (_name, make, message) => {
    const path = make();
    for (const c of ['sample', 'eval'] as const) {
      refused(await run([c, path]), message);
      count.add('11 CLI: not a checkpoint', 'typed error');
    }
  });

  it('sample reads a model file of saveModel (vocabulary in its metadata): the same text as from the checkpoint', async () => {
    const fromCkpt = await run(['sample', CKPT, '--length', '40', '--seed', '3', '--prime', 'The ', '--json']);
    const fromModel = await run(['sample', MODEL, '--length', '40', '--seed', '3', '--prime', 'The ', '--json']);
    expect(fromModel.code, fromModel.err.join('\n')).toBe(0);
    expect(fromModel.json[0]).toMatchObject({ type: 'sample', task: 'char', step: 2, prime: 'The ' });
    expect(fromModel.json[0].text).toBe(fromCkpt.json[0].text);
    count.add('11 CLI: model files', 'correct behaviour');
  });

  it('a model file without a vocabulary: sample asks for --text, and works with it', async () => {
    refused(await run(['sample', MODEL_NO_VOCAB]), /model file without a vocabulary: give the text it was trained on with --text/);
    const r = await run(['sample', MODEL_NO_VOCAB, '--text', CORPUS_FILE, '--length', '40', '--seed', '3', '--prime', 'The ', '--json']);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.json[0].text).toBe((await run(['sample', CKPT, '--length', '40', '--seed', '3', '--prime', 'The ', '--json'])).json[0].text);
    refused(await run(['sample', MODEL_NO_VOCAB, '--text', TEXT]), /the model .* does not predict the next of \d+ characters/);
    refused(await run(['sample', CKPT, '--text', TEXT]), /--text is for model files without a vocabulary/);
    count.add('11 CLI: model files', 'correct behaviour');
    count.add('11 CLI: model files', 'typed error', 3);
  });

  it('eval reads a model file (on the built-in corpus by default, or --text); train --resume refuses one', async () => {
    const r = await run(['eval', MODEL, '--json']);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.json[0]).toMatchObject({ type: 'eval', task: 'char', source: 'the built-in corpus', step: 2 });
    expect(r.json[0].loss).toBeGreaterThan(3);
    const t = await run(['eval', MODEL_NO_VOCAB, '--text', CORPUS_FILE, '--json']);
    expect(t.code).toBe(0);
    expect(t.json[0].loss).toBeCloseTo(r.json[0].loss, 10);
    refused(await run(['eval', MODEL, '--text', TEXT]), /has other characters than the vocabulary stored/);
    refused(
      await run(['train', '--resume', MODEL]),
      /is a model file \(weights only, as saveModel writes them\), not a training checkpoint/,
    );
    count.add('11 CLI: model files', 'correct behaviour', 2);
    count.add('11 CLI: model files', 'typed error', 2);
  });
});

describe('class 5: an output is never an input', () => {
  const ways: [string, () => string][] = [
    ['the same path', () => TEXT],
    [
      'a symbolic link to it',
      () => {
        const p = tmp.path('link-to-book');
        if (!existsSync(p)) symlinkSync(TEXT, p);
        return p;
      },
    ],
    [
      'a link to a link to it',
      () => {
        const p = tmp.path('link2');
        if (!existsSync(p)) symlinkSync(tmp.path('link-to-book'), p);
        return p;
      },
    ],
    [
      'a hard link to it',
      () => {
        const p = tmp.path('hard-book');
        if (!existsSync(p)) linkSync(TEXT, p);
        return p;
      },
    ],
    [
      'a detour through ..',
      () => {
        mkdirSync(tmp.path('sub'), { recursive: true });
        return join(tmp.dir, 'sub', '..', 'book.txt');
      },
    ],
    ['a relative path', () => relative(process.cwd(), TEXT)],
    ['a path with doubled slashes', () => TEXT.replace(/\//g, '//')],
  ];

  it.each(ways)('train --text F --checkpoint (%s): refused, the text untouched', async (_name, out) => {
    const before = sha(TEXT);
    const path = out();
    refused(await run(['train', ...TINY, '--steps', '1', '--text', TEXT, '--checkpoint', path]), /refusing to overwrite an input/);
    expect(sha(TEXT)).toBe(before);
    count.add('5 CLI files: output = input', 'typed error');
  });

  it.each(ways)('train --resume CK (trained on F) --checkpoint (%s): refused', async (_name, out) => {
    const before = sha(TEXT);
    refused(
      await run(['train', '--resume', TEXT_CKPT, '--steps', '2', '--checkpoint', out()]),
      /is the input --text .*refusing to overwrite an input/,
    );
    expect(sha(TEXT)).toBe(before);
    count.add('5 CLI files: output = input', 'typed error');
  });

  it('the checkpoint being resumed is replaced, also through a symbolic link (which stays a link)', async () => {
    const target = tmp.path('resumable.ckpt'),
      link = tmp.path('resumable-link.ckpt');
    expect((await run(['train', ...TINY, '--steps', '1', '--checkpoint', target])).code).toBe(0);
    chmodSync(target, 0o600);
    symlinkSync(target, link);
    const r = await run(['train', '--resume', link, '--steps', '2', '--json']);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(target);
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(r.json.find((l) => l.type === 'checkpoint')).toMatchObject({ step: 2 });
    count.add('5 CLI files: links and modes', 'correct behaviour');
  });
});

describe('class 5: files that cannot be read or written', () => {
  beforeAll(() => {
    writeFileSync(tmp.path('latin1.txt'), Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from(' au lait, '.repeat(10))]));
    writeFileSync(tmp.path('plain'), 'x');
    symlinkSync(tmp.path('loopB'), tmp.path('loopA'));
    symlinkSync(tmp.path('loopA'), tmp.path('loopB'));
    symlinkSync(tmp.path('nowhere/x.ckpt'), tmp.path('dangling.ckpt'));
  });

  it.each([
    [['--text', 'latin1.txt'], /--text .*latin1.txt: is not valid UTF-8: the byte 0xe9 at offset 3 /],
    [['--text', '.'], /--text .*: cannot read: is a directory \(EISDIR\)/],
    [['--text', 'loopA'], /cannot read: too many levels of symbolic links .*\(ELOOP\)/],
    [['--text', 'missing.txt'], /cannot read: no such file or directory \(ENOENT\)/],
    [['--text', 'plain/x.txt'], /cannot read: a component of the path is not a directory \(ENOTDIR\)/],
    [['--checkpoint', '.'], /--checkpoint .*: cannot write: is a directory/],
    [['--checkpoint', 'loopA'], /--checkpoint .*loopA: cannot write: too many levels of symbolic links .*\(ELOOP\)/],
    [['--checkpoint', 'dangling.ckpt'], /--checkpoint .*dangling.ckpt: cannot write: it is a symbolic link to a file that does not exist/],
    [['--checkpoint', 'plain/x.ckpt'], /--checkpoint .*: cannot write: a component of the path is not a directory \(ENOTDIR\)/],
    [['--checkpoint', 'no/such/dir/x.ckpt'], /cannot write: the directory .* does not exist/],
    [['--resume', 'loopA'], /--resume .*loopA: cannot read: .*\(ELOOP\)/],
    [['--resume', '.'], /--resume .*: cannot read: is a directory \(EISDIR\)/],
  ])('train %j: one line naming the path, exit 2, nothing trained', async (flags, message) => {
    const argv = flags.map((a, i) => (i % 2 === 1 ? tmp.path(a) : a));
    const r = await run(['train', ...TINY, '--steps', '1', ...argv]);
    refused(r, message);
    expect(r.out).toEqual([]);
    count.add('5 CLI files: unreadable / unwritable', 'typed error');
  });

  it.runIf(process.platform === 'linux')(
    'a device as the checkpoint is refused before training (never renamed over /dev/null)',
    async () => {
      symlinkSync('/dev/null', tmp.path('null.ckpt'));
      refused(await run(['train', ...TINY, '--steps', '1', '--checkpoint', tmp.path('null.ckpt')]), /not a regular file/);
      expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
      count.add('5 CLI files: unreadable / unwritable', 'typed error');
    },
  );

  it('EACCES: a directory the user may not write (as root: the real command line run as the user nobody)', async () => {
    mkdirSync(tmp.path('ro'), { mode: 0o755 });
    const argv = ['train', ...TINY, '--steps', '1', '--checkpoint', tmp.path('ro/x.ckpt')];
    let r: Run;
    if (process.getuid?.() === 0) {
      chmodSync(tmp.dir, 0o755);
      const c = spawnSync(process.execPath, [BIN, ...argv], { uid: 65534, gid: 65534, encoding: 'utf8' });
      r = { code: c.status ?? -1, out: c.stdout.split('\n'), err: c.stderr.split('\n').filter((l) => l.length > 0), json: [] };
    } else {
      chmodSync(tmp.path('ro'), 0o500);
      r = await run(argv);
    }
    // the directory exists, so training runs; the save fails and says why (exit 1: the environment)
    refused(r, /could not save the checkpoint at step 1 to .*ro\/x.ckpt: EACCES: cannot write: permission denied \(EACCES\)/, 1);
    count.add('5 CLI files: unreadable / unwritable', 'typed error');
  });

  it('ENOSPC: a checkpoint on a full file system (root: a 16 KiB tmpfs), exit 1, the previous checkpoint intact', async () => {
    if (process.getuid?.() !== 0) return;
    const mnt = tmp.path('full');
    mkdirSync(mnt);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', mnt]).status !== 0) return; // no mount here
    try {
      const ck = join(mnt, 'x.ckpt');
      expect(
        (await run(['train', '--hidden', '2', '--seq', '4', '--batch', '2', '--sample', '0', '--steps', '1', '--checkpoint', ck])).code,
      ).toBe(0);
      const before = sha(ck);
      const r = await run(['train', '--hidden', '64', '--seq', '4', '--batch', '2', '--sample', '0', '--steps', '1', '--checkpoint', ck]);
      refused(
        r,
        /could not save the checkpoint at step 1 to .*x.ckpt: ENOSPC: cannot write: no space left on the device \(ENOSPC\) \(the previous checkpoint, if any, is intact\)/,
        1,
      );
      expect(sha(ck)).toBe(before);
      count.add('5 CLI files: unreadable / unwritable', 'typed error');
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});

describe('class 4/5: random argument lists never end in anything but a result or one typed line', () => {
  const files = (): string[] => [
    TEXT,
    FUZZ_CKPT,
    MODEL,
    MODEL_NO_VOCAB,
    tmp.path('latin1.txt'),
    tmp.dir,
    tmp.path('loopA'),
    tmp.path('missing'),
    tmp.path('fresh.ckpt'),
    tmp.path('link-to-book'),
    '',
    '/dev/null',
  ];
  const VALUES: Record<string, string[]> = {
    int: ['0', '1', '2', '-1', '1e0', '0x2', 'abc', '', '1.5', '99999999999999999999'],
    number: ['0', '0.5', '1e-3', '-1', 'NaN', '0x1', '', '1e999', '3'],
    tbptt: ['2,4', '4,2', 'x', '2', '0'],
    schedule: ['constant', 'cosine:warmup=1', 'step:size=0x1', 'bogus', '', 'exponential:gamma=0.5'],
    backends: ['js', 'wasm,js', 'gpu', ''],
    prime: ['a', '\n', '\u263a', '', 'The '],
  };
  // a run that gets through the checks stays tiny: these are added unless the list has them
  const SMALL: Record<Command, string[]> = {
    train: ['--steps', '1', '--hidden', '2', '--batch', '1', '--sample', '0', '--every', '1'],
    sample: ['--length', '3'],
    eval: ['--batches', '1'],
    bench: ['--time', '1', '--max-steps', '1', '--hidden', '2', '--batch', '1', '--backends', 'js'],
    gradcheck: ['--hidden', '2', '--samples', '1'],
    experiment: ['--quick'],
    fit: ['--epochs', '1', '--hidden', '2'],
  };

  for (const c of COMMANDS) {
    it(`${c}: 100 random argument lists`, async () => {
      const names = commandFlagNames(c);
      const flagArg = fc
        .constantFrom(...names)
        .chain((name) => {
          const def = flagFor(c, name);
          const pool =
            def.kind === 'boolean'
              ? [null]
              : def.kind === 'choice'
                ? [...def.choices!, '', 'bogus']
                : def.kind === 'file'
                  ? files()
                  : def.kind === 'int' || def.kind === 'number'
                    ? VALUES[def.kind]
                    : (VALUES[name] ?? ['x']);
          return fc.tuple(fc.constant(name), fc.constantFrom(...pool), fc.boolean());
        })
        .map(([name, v, inline]) => (v === null ? [`--${name}`] : inline ? [`--${name}=${v}`] : [`--${name}`, v]));
      const junk = fc.constantFrom(['--frob'], ['-x'], ['extra'], ['--'], ['--hiden', '3'], ['-h']).map((a) => [...a]);
      const argvs = fc
        .tuple(
          fc.array(fc.oneof({ weight: 5, arbitrary: flagArg }, { weight: 1, arbitrary: junk }), { maxLength: 5 }),
          fc.constantFrom(...files()),
        )
        .map(([parts, file]) => {
          const flat = parts.flat();
          const small: string[] = [];
          for (let i = 0; i < SMALL[c].length; i += 2)
            if (!flat.some((a) => a === SMALL[c][i] || a.startsWith(`${SMALL[c][i]}=`))) small.push(SMALL[c][i], SMALL[c][i + 1]);
          return [c, ...(c === 'sample' || c === 'eval' ? [file] : []), ...small, ...flat];
        });
      const before = sha(TEXT);
      await fc.assert(
        fc.asyncProperty(argvs, async (argv) => {
          const r = await runRaw(argv);
          const where = `${JSON.stringify(argv)} -> ${r.code}: ${r.err.join(' | ')}`;
          expect([0, 1, 2], where).toContain(r.code);
          // gradcheck's FAIL verdict (exit 1) is a result, printed on stdout
          const verdict = r.code === 1 && c === 'gradcheck' && r.err.length === 0 && /^FAIL: /m.test(r.out.join('\n'));
          if (r.code !== 0 && !verdict) {
            expect(r.err, where).toHaveLength(1);
            expect(r.err[0], where).toMatch(/^unrolled: /);
            expect(r.err[0], where).not.toMatch(/\bat .*:\d+:\d+/);
            if (r.code === 1) expect(r.err[0], where).toMatch(/could not save/);
          }
          count.add('4/5 CLI: random argv (fast-check)', r.code === 0 || verdict ? 'correct behaviour' : 'typed error');
        }),
        { numRuns: 100, seed: 20261202 + c.length },
      );
      expect(sha(TEXT)).toBe(before);
    });
  }
});

// ── the real process: signals and pipes (bin/unrolled.js runs dist/: `npm run build:ts` first)

function spawnCli(args: string[]): {
  done: Promise<{ code: number | null; signal: string | null; out: string; err: string; ms: number }>;
  kill: (s: NodeJS.Signals) => void;
  output: () => string;
} {
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '',
    err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const done = new Promise<{ code: number | null; signal: string | null; out: string; err: string; ms: number }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, out, err, ms: performance.now() - t0 }));
  });
  return { done, kill: (s) => child.kill(s), output: () => out + err };
}

function shell(command: string): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.on('close', (code) => resolve({ code, err }));
  });
}

describe('class 6: Ctrl-C and closed pipes on the real process', () => {
  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/cli/main.js is missing: run `npm run build:ts` first');
  });

  it('SIGINT during a long sample stops within a step: exit 130, the text so far printed', async () => {
    // sample prints nothing before it ends, so nothing tells when its handler is installed: a
    // signal that came first (the process died of it) is tried again with a longer start-up wait
    let r: Awaited<ReturnType<typeof spawnCli>['done']> | null = null;
    let sent = 0;
    for (const wait of [1500, 4000, 10_000]) {
      const p = spawnCli(['sample', CKPT, '--length', '10000000']);
      await new Promise((res) => setTimeout(res, wait));
      sent = performance.now();
      p.kill('SIGINT');
      r = await p.done;
      if (r.signal !== 'SIGINT') break;
    }
    if (!r) throw new Error('unreachable');
    expect(r.code, r.err).toBe(130);
    expect(performance.now() - sent).toBeLessThan(3000);
    expect(r.err).toMatch(/^unrolled: sample: interrupted after \d+ of 10000000\n$/);
    const n = Number(/after (\d+)/.exec(r.err)![1]);
    expect(n).toBeGreaterThan(0);
    expect([...r.out.replace(/\n$/, '')].length).toBe(n + 1); // the prime (a newline) and n characters
    count.add('6 CLI: SIGINT', 'correct behaviour');
  });

  it('SIGINT during train without a checkpoint: exit 130 after the current step, "interrupted" reported', async () => {
    const p = spawnCli(['train', '--steps', '1000000', '--hidden', '8', '--seq', '8', '--batch', '2', '--every', '1', '--json']);
    for (let i = 0; i < 300 && !/"type":"step","step":5,/.test(p.output()); i++) await new Promise((r) => setTimeout(r, 20));
    p.kill('SIGINT');
    const r = await p.done;
    expect(r.code, r.err).toBe(130);
    const lines = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const last = lines.at(-1);
    expect(last.type).toBe('interrupted');
    expect(lines.at(-2)).toMatchObject({ type: 'step', step: last.step });
    count.add('6 CLI: SIGINT', 'correct behaviour');
  });

  it.each([
    ['sample', `sample CKPT --length 200000`],
    ['train', `train --steps 1000000 --hidden 8 --seq 8 --batch 2 --every 1`],
    ['train --json with a checkpoint', `train --steps 1000000 --hidden 8 --seq 8 --batch 2 --every 1 --json --checkpoint PIPE_CKPT`],
    ['help', `help`],
    ['eval', `eval CKPT`],
  ])('%s | head -c 10: ends quietly (no EPIPE, no stack trace)', async (_name, args) => {
    const pipeCkpt = tmp.path('pipe.ckpt');
    const cmd = `"${process.execPath}" "${BIN}" ${args.replace('PIPE_CKPT', `"${pipeCkpt}"`).replace(/\bCKPT\b/, `"${CKPT}"`)} 2>"${tmp.path('pipe-err.txt')}" | head -c 10; echo "exit $?" >&2`;
    const r = await shell(`${cmd}`);
    expect(r.code).toBe(0);
    const err = readFileSync(tmp.path('pipe-err.txt'), 'utf8');
    expect(err).toBe('');
    if (args.includes('PIPE_CKPT')) expect(existsSync(pipeCkpt)).toBe(true); // stopped like Ctrl-C: the state was saved
    count.add('6 CLI: EPIPE', 'correct behaviour');
  });
});
