// The command line in-process: help for every command, training on every task, the output
// modes (JSON lines, plain lines, progress bar), --diagnose, and user mistakes (exit 2, one line
// on stderr, never a stack trace).
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { fakeTerminal, run, tempDir } from './helpers.js';

const tmp = tempDir('unrolled-cli-');
afterAll(() => tmp.remove());

const TINY = ['--steps', '3', '--hidden', '8', '--seq', '8', '--batch', '2', '--json'];

describe('help', () => {
  const commands = ['train', 'sample', 'eval', 'bench', 'gradcheck'];
  it('unrolled help, --help and -h list the commands', async () => {
    for (const argv of [['help'], ['--help'], ['-h']]) {
      const r = await run(argv);
      expect(r.code).toBe(0);
      expect(r.err).toEqual([]);
      const text = r.out.join('\n');
      for (const c of commands) expect(text).toMatch(new RegExp(`unrolled ${c}`));
    }
  });

  it.each(commands)('%s: --help, -h and help %s print its usage and exit 0', async (c) => {
    for (const argv of [
      [c, '--help'],
      [c, '-h'],
      ['help', c],
    ]) {
      const r = await run(argv);
      expect(r.code).toBe(0);
      expect(r.err).toEqual([]);
      expect(r.out.join('\n')).toMatch(new RegExp(`^Usage: unrolled ${c}`));
    }
  });

  it('train --help documents every flag of the brief', async () => {
    const text = (await run(['train', '--help'])).out.join('\n');
    for (const flag of [
      '--text',
      '--task',
      '--cell',
      '--layers',
      '--hidden',
      '--tbptt',
      '--seq',
      '--optimizer',
      '--lr',
      '--schedule',
      '--clip',
      '--clip-value',
      '--seed',
      '--checkpoint',
      '--checkpoint-every',
      '--resume',
      '--diagnose',
      '--json',
      '--reproducible',
    ]) {
      expect(text).toContain(flag);
    }
    expect(text).toMatch(/char.*adding.*copy.*reber.*sine/s);
  });
});

describe('train', () => {
  it('trains a tiny char model and prints JSON lines', async () => {
    const r = await run(['train', ...TINY, '--sample', '20', '--every', '1']);
    expect(r.code).toBe(0);
    expect(r.err).toEqual([]);
    const header = r.json[0];
    expect(header).toMatchObject({
      type: 'header',
      task: 'char',
      cell: 'lstm',
      hidden: 8,
      batch: 2,
      seq: 8,
      tbptt: { k1: 8, k2: 8 },
      backend: 'wasm',
      resumedFrom: null,
    });
    expect(header.engine).toMatch(/^wasm-(simd|scalar)$/); // never relaxed by default
    const steps = r.json.filter((l) => l.type === 'step');
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3]);
    for (const s of steps) {
      expect(Number.isFinite(s.loss)).toBe(true);
      expect(s.stepsPerSecond).toBeGreaterThan(0);
    }
    expect(steps[0].loss).toBeGreaterThan(3); // about log(vocabulary) at the start
    expect(r.json.find((l) => l.type === 'done')).toMatchObject({ steps: 3, ran: 3, skipped: 0 });
    expect(r.json.find((l) => l.type === 'sample')!.text).toHaveLength(20);
  });

  it.each([
    ['adding', 'rnn', { mse: expect.any(Number), baselineExpected: 1 / 6 }],
    ['copy', 'lstm', { baseline: Math.log(8) }],
    ['reber', 'lstm', { allowedAccuracy: expect.any(Number) }],
    ['sine', 'lstm', { mse: expect.any(Number), baseline: expect.any(Number) }],
  ] as const)('trains the %s task (default cell %s) and evaluates it', async (task, cell, evalFields) => {
    const seq = task === 'reber' ? '12' : '8';
    const r = await run(['train', '--task', task, ...TINY.filter((_, i, a) => a[i] !== '--seq' && a[i - 1] !== '--seq'), '--seq', seq]);
    expect(r.code).toBe(0);
    expect(r.err).toEqual([]);
    expect(r.json[0]).toMatchObject({ type: 'header', task, cell, seq: Number(seq), tbptt: null });
    expect(r.json.filter((l) => l.type === 'step').map((l) => l.step)).toEqual([1, 3]);
    const ev = r.json.find((l) => l.type === 'eval');
    expect(ev).toMatchObject({ task, ...evalFields });
    expect(Number.isFinite(ev!.loss)).toBe(true);
  });

  it('is the default command, and prints text without --json', async () => {
    const r = await run([
      '--steps',
      '2',
      '--hidden',
      '4',
      '--seq',
      '4',
      '--batch',
      '2',
      '--sample',
      '5',
      '--cell',
      'gru',
      '--backend',
      'js',
    ]);
    expect(r.code).toBe(0);
    const text = r.out.join('\n');
    expect(text).toMatch(/gru, 1 x 4 hidden/);
    expect(text).toMatch(/backend {2}js/);
    expect(text).toMatch(/step 2 {2}loss \d/);
    expect(text).toMatch(/sample \(temperature 0.8/);
  });

  it('trains on a --text file with TBPTT(k1, k2), a schedule, sgd and both clips', async () => {
    const file = tmp.path('tiny.txt');
    writeFileSync(file, 'abcab cabba '.repeat(20));
    const r = await run([
      'train',
      ...TINY.filter((_, i, a) => a[i] !== '--seq' && a[i - 1] !== '--seq'),
      '--text',
      file,
      '--sample',
      '10',
      '--tbptt',
      '4,8',
      '--seq',
      '4',
      '--schedule',
      'cosine:warmup=2,min=0.1',
      '--optimizer',
      'sgd',
      '--momentum',
      '0.9',
      '--lr',
      '0.1',
      '--clip',
      '1',
      '--clip-value',
      '0.5',
    ]);
    expect(r.code).toBe(0);
    expect(r.json[0]).toMatchObject({
      source: file,
      characters: 240,
      vocab: 4,
      tbptt: { k1: 4, k2: 8 },
      seq: 4,
      optimizer: 'sgd',
      clip: 1,
      clipValue: 0.5,
      schedule: { kind: 'cosine', total: 3, minFactor: 0.1, warmup: 2 },
    });
    const lrs = r.json.filter((l) => l.type === 'step').map((l) => l.lr);
    expect(lrs[0]).toBeCloseTo(0.05, 12); // warm-up: half the rate at the first update
  });

  it('--diagnose charts ||dE/dh_t|| per layer (JSON and text)', async () => {
    const r = await run(['train', ...TINY, '--layers', '2', '--diagnose', '2', '--sample', '0']);
    expect(r.code).toBe(0);
    const d = r.json.filter((l) => l.type === 'diagnose');
    expect(d.map((l) => l.step)).toEqual([2]);
    expect(d[0].layers).toHaveLength(2);
    for (const layer of d[0].layers) {
      expect(layer.norms).toHaveLength(8);
      expect(layer.ratio).toBeCloseTo(layer.max / layer.min, 10);
      expect(layer.ratio).toBeGreaterThanOrEqual(1);
    }
    // text: a bare --diagnose follows --every
    const t = await run([
      'train',
      '--task',
      'adding',
      '--steps',
      '4',
      '--every',
      '2',
      '--hidden',
      '8',
      '--seq',
      '30',
      '--batch',
      '2',
      '--diagnose',
    ]);
    expect(t.code).toBe(0);
    const text = t.out.join('\n');
    expect(text.match(/‖∂E\/∂h_t‖ over t = 1…30/g)).toHaveLength(2);
    expect(text).toMatch(/layer 0 [▁▂▃▄▅▆▇█]{30} {2}max\/min \d/);
  });

  it('draws a progress bar with steps/s, loss and ETA on a terminal', async () => {
    const term = fakeTerminal();
    const r = await run(
      [
        'train',
        '--steps',
        '30',
        '--hidden',
        '8',
        '--seq',
        '8',
        '--batch',
        '2',
        '--sample',
        '0',
        '--checkpoint',
        tmp.path('bar.ckpt'),
        '--checkpoint-every',
        '10',
      ],
      { tty: true, stream: term.stream },
    );
    expect(r.code).toBe(0);
    const bar = term.text();
    expect(bar).toMatch(/train \|.*\| 30\/30 \| loss \d+\.\d+ \| [\d.-]+ steps\/s \| ETA/);
    // step lines give way to the bar; events are still printed
    expect(r.out.join('\n')).not.toMatch(/^step /m);
    expect(bar + r.out.join('\n')).toMatch(/checkpoint: step 10 saved/);
    expect(r.out.join('\n')).toMatch(/done: 30 steps/);
  });

  it.runIf(process.platform === 'linux')('a checkpoint that cannot be written: exit 1, one line, no stack', async () => {
    const r = await run([
      'train',
      '--steps',
      '2',
      '--hidden',
      '4',
      '--seq',
      '4',
      '--batch',
      '2',
      '--sample',
      '0',
      '--checkpoint',
      '/proc/unrolled-test.ckpt',
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      expect.stringMatching(
        /^unrolled: train: could not save the checkpoint at step 2 to \/proc\/unrolled-test.ckpt: E[A-Z]+.*previous checkpoint, if any, is intact/,
      ),
    ]);
  });

  it('an unexpected internal error gives exit 70 with a note and the stack', async () => {
    const err: string[] = [];
    const code = await (await import('../../src/cli/main.js')).main(
      ['train', '--steps', '1', '--hidden', '4', '--seq', '4', '--batch', '2'],
      {
        out: () => {
          throw new Error('boom');
        },
        err: (l) => {
          err.push(l);
        },
      },
    );
    expect(code).toBe(70);
    expect(err.join('\n')).toMatch(/internal error.*please report/);
    expect(err.join('\n')).toMatch(/Error: boom\n\s+at /);
  });
});

describe('mistakes: exit 2 and one line on stderr', () => {
  const notCheckpoint = tmp.path('not-a-checkpoint.bin');
  writeFileSync(notCheckpoint, 'definitely not safetensors');
  it.each([
    [['train', '--frobnicate'], /unknown option --frobnicate/],
    [['train', '--steps'], /option --steps needs a value/],
    [['train', '--steps', 'ten'], /--steps: expected an integer/],
    [['train', '--steps', '0'], /--steps: expected an integer in \[1,/],
    [['train', '--lr=-1'], /--lr: expected a finite number in \[0, 1000000\], got "-1"/],
    [['train', '--lr', '-1'], /option --lr: write a value that starts with "-" as --lr=VALUE/],
    [['train', '--cell', 'transformer'], /--cell: expected one of rnn, lstm, gru, got "transformer"/],
    [['train', '--task', 'parity'], /--task: expected one of char, adding, copy, reber, sine/],
    [['train', '--task', 'adding', '--text', 'x.txt'], /--text is for the char task only/],
    [['train', '--task', 'adding', '--tbptt', '4,8'], /--tbptt is for the char task/],
    [['train', '--tbptt', '8,4'], /--tbptt: expected k1,k2 with 1 <= k1 <= k2/],
    [['train', '--tbptt', '4,8', '--seq', '5'], /--seq 5 and --tbptt 4,8 disagree/],
    [['train', '--schedule', 'cyclic'], /--schedule: unknown schedule "cyclic"/],
    [['train', '--schedule', 'step:gamma=0.5'], /step needs size=N/],
    [['train', '--schedule', 'cosine:total=x'], /total expects an integer/],
    [['train', '--momentum', '0.9'], /--momentum is for --optimizer sgd/],
    [['train', '--cell', 'gru', '--nonlinearity', 'relu'], /--nonlinearity relu needs --cell rnn/],
    [['train', '--json=yes'], /option --json takes no value/],
    [['train', 'extra'], /unexpected argument extra/],
    [['train', '--checkpoint-every', '5'], /--checkpoint-every needs --checkpoint PATH/],
    [['train', '--reproducible', '--relaxed'], /contradict/],
    [
      ['train', '--checkpoint', '/no/such/dir/x.ckpt'],
      /--checkpoint \/no\/such\/dir\/x.ckpt: cannot write: the directory \/no\/such\/dir does not exist/,
    ],
    [['train', '--checkpoint', '/tmp'], /--checkpoint \/tmp: cannot write: is a directory/],
    [['train', '--task', 'reber', '--seq', '5'], /--seq: expected an integer in \[9,/],
    [['fly'], /unknown command "fly"/],
    [['help', 'fly'], /unknown help topic "fly"/],
    [['train', '--text', '/no/such/file.txt'], /--text \/no\/such\/file.txt: cannot read: no such file or directory \(ENOENT\)/],
    [['train', '--text', '/'], /is a directory/],
    [['train', '--batch', '1000', '--seq', '1000'], /too few for --batch 1000 x --seq 1000/],
    [['train', '--resume', '/no/such/ckpt'], /--resume \/no\/such\/ckpt: cannot read: no such file/],
    [['train', '--resume', notCheckpoint], /not-a-checkpoint.bin is not a checkpoint or model file: it is a text file/],
    [['sample'], /which checkpoint or model file\?/],
    [['sample', '/no/such/ckpt'], /no such file/],
    [['sample', notCheckpoint, '--length', '-5'], /--length/],
    [['eval', '/no/such/ckpt'], /no such file/],
    [['eval', notCheckpoint], /is not a checkpoint or model file/],
    [['eval', 'a', 'b'], /unexpected argument b/],
    [['bench', '--backend', 'js'], /use --backends/],
    [['bench', '--backends', 'gpu'], /--backends: expected a list of wasm and js/],
    [['gradcheck', '--lr', '0.1'], /--lr does not apply/],
    [['gradcheck', '--eps', '0'], /--eps: expected a finite number in \(0, 1\]/],
  ])('%j', async (argv, message) => {
    const r = await run(argv as string[]);
    expect(r.code).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^unrolled: /);
    expect(r.err[0]).toMatch(message);
    expect(r.err[0]).not.toMatch(/\bat .*:\d+:\d+/); // no stack trace
  });
});
