import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, type CliIO } from '../../src/cli/main.js';

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [], err: string[] = [];
  const io: CliIO = { out: (l) => { out.push(...l.split('\n')); }, err: (l) => { err.push(...l.split('\n')); } };
  const code = await main(argv, io);
  return { code, out, err };
}

const TINY = ['--steps', '3', '--hidden', '8', '--seq', '8', '--batch', '2', '--json'];

describe('unrolled CLI', () => {
  it('--help, help and train --help print usage and exit 0', async () => {
    for (const argv of [['--help'], ['help'], ['train', '--help'], ['train', '-h'], ['help', 'train']]) {
      const r = await run(...argv);
      expect(r.code).toBe(0);
      expect(r.err).toEqual([]);
      expect(r.out.join('\n')).toMatch(/Usage: unrolled train/);
      expect(r.out.join('\n')).toMatch(/--task char\|adding/);
    }
  });

  it('trains a tiny char model and prints JSON lines', async () => {
    const r = await run('train', ...TINY, '--sample', '20', '--every', '1');
    expect(r.code).toBe(0);
    expect(r.err).toEqual([]);
    const lines = r.out.filter((l) => l.length > 0).map((l) => JSON.parse(l));
    const header = lines[0];
    expect(header).toMatchObject({ type: 'header', task: 'char', cell: 'lstm', hidden: 8, batch: 2, seq: 8, backend: 'wasm' });
    expect(header.parameters).toBeGreaterThan(0);
    expect(typeof header.simd).toBe('boolean');
    const steps = lines.filter((l) => l.type === 'step');
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3]);
    for (const s of steps) {
      expect(Number.isFinite(s.loss)).toBe(true);
      expect(Number.isFinite(s.gradNorm)).toBe(true);
      expect(s.stepsPerSecond).toBeGreaterThan(0);
    }
    expect(steps[0].loss).toBeGreaterThan(3); // about log(vocabulary) at the start
    const done = lines.find((l) => l.type === 'done');
    expect(done).toMatchObject({ steps: 3, skipped: 0 });
    const sample = lines.find((l) => l.type === 'sample');
    expect(sample.text).toHaveLength(20);
    expect(typeof sample.prime).toBe('string');
  });

  it('trains the adding task (default cell rnn) and reports MSE against the 1/6 baseline', async () => {
    const r = await run('train', '--task', 'adding', ...TINY);
    expect(r.code).toBe(0);
    const lines = r.out.filter((l) => l.length > 0).map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: 'header', task: 'adding', cell: 'rnn', seq: 8 });
    expect(lines.filter((l) => l.type === 'step').map((l) => l.step)).toEqual([1, 3]);
    const ev = lines.find((l) => l.type === 'eval');
    expect(Number.isFinite(ev.mse)).toBe(true);
    expect(ev.baseline).toBeGreaterThan(0.12);
    expect(ev.baseline).toBeLessThan(0.22);
    expect(ev.baselineExpected).toBeCloseTo(1 / 6, 6);
  });

  it('is the default command, and prints text without --json', async () => {
    const r = await run('--steps', '2', '--hidden', '4', '--seq', '4', '--batch', '2', '--sample', '5', '--cell', 'gru', '--backend', 'js');
    expect(r.code).toBe(0);
    const text = r.out.join('\n');
    expect(text).toMatch(/gru, 1 x 4 hidden/);
    expect(text).toMatch(/backend {2}js/);
    expect(text).toMatch(/step 2 {2}loss \d/);
    expect(text).toMatch(/sample \(temperature 0.8/);
  });

  it('trains on a --text file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'unrolled-cli-'));
    const file = join(dir, 'tiny.txt');
    writeFileSync(file, 'abcab cabba '.repeat(20));
    const r = await run('train', ...TINY, '--text', file, '--sample', '10');
    expect(r.code).toBe(0);
    const header = JSON.parse(r.out[0]);
    expect(header).toMatchObject({ source: file, characters: 240, vocab: 4 });
  });

  it.each([
    [['train', '--frobnicate'], /unknown option --frobnicate/],
    [['train', '--steps'], /option --steps needs a value/],
    [['train', '--steps', 'ten'], /--steps: expected an integer/],
    [['train', '--steps', '0'], /--steps: expected an integer in \[1,/],
    [['train', '--lr=-1'], /--lr: expected a number > 0, got "-1"/],
    [['train', '--lr', '-1'], /option --lr: write a value that starts with "-" as --lr=VALUE/],
    [['train', '--cell', 'transformer'], /--cell: expected one of rnn, lstm, gru, got "transformer"/],
    [['train', '--task', 'adding', '--text', 'x.txt'], /--text is for the char task only/],
    [['train', '--cell', 'gru', '--nonlinearity', 'relu'], /--nonlinearity relu needs --cell rnn/],
    [['train', '--json=yes'], /option --json takes no value/],
    [['train', 'extra'], /unexpected argument extra/],
    [['fly'], /unknown command "fly"/],
    [['train', '--text', '/no/such/file.txt'], /no such file/],
    [['train', '--batch', '1000', '--seq', '1000'], /too few for --batch 1000 x --seq 1000/],
  ])('%j exits 2 with one line on stderr', async (argv, message) => {
    const r = await run(...(argv as string[]));
    expect(r.code).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^unrolled: /);
    expect(r.err[0]).toMatch(message);
    expect(r.err[0]).not.toMatch(/\bat .*:\d+:\d+/); // no stack trace
  });
});
