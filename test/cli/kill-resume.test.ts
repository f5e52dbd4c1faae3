// Kill and resume: the real command line (node bin/unrolled.js, i.e. dist/ — run `npm run build`
// first) trains a small char model with a checkpoint every 5 steps; it is SIGKILLed mid-training
// after a checkpoint event, then resumed from the checkpoint to the same total step count. The
// per-step losses after the resume point must be bit-identical to an uninterrupted run with the
// same seed, and so must the final checkpoint file.
//
// The kill is deterministic: once the checkpoint event is seen, the test stops reading the
// child's stdout, and a process writing to a full pipe blocks (Node's stdout writes to pipes are
// synchronous on Linux), so the child cannot finish its ~600 lines (~110 KB) before the kill lands.
//
// Also: a crash during a checkpoint write (a torn temporary file, no rename) leaves the previous
// checkpoint intact, and the next save removes the dead process's temporary file.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempPathFor } from '../../src/node/files.js';
import { checkpointInfo } from '../../src/train/checkpoint.js';
import { tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/unrolled.js');
const STEPS = 600;
const FLAGS = [
  'train',
  '--steps',
  String(STEPS),
  '--hidden',
  '16',
  '--batch',
  '4',
  '--tbptt',
  '8,16',
  '--seed',
  '7',
  '--every',
  '1',
  '--json',
  '--sample',
  '0',
];
const EVERY5 = ['--checkpoint-every', '5'];

const tmp = tempDir('unrolled-kill-');
afterAll(() => tmp.remove());

/** dist/ must hold the current command line and checkpoint code. */
beforeAll(() => {
  const built = join(ROOT, 'dist/cli/main.js');
  if (!existsSync(built)) throw new Error('dist/cli/main.js is missing: run `npm run build` first (this test runs bin/unrolled.js)');
  // each source against its own output: an incremental build re-emits only what changed
  const sources = [
    ...readdirSync(join(ROOT, 'src/cli')).map((f) => `cli/${f}`),
    ...readdirSync(join(ROOT, 'src/train/checkpoint')).map((f) => `train/checkpoint/${f}`),
    'train/checkpoint.ts',
    'node/checkpoint-files.ts',
    'train/trainer.ts',
  ].filter((f) => f.endsWith('.ts'));
  const stale = sources.filter((f) => {
    const out = join(ROOT, 'dist', f.replace(/\.ts$/, '.js'));
    return !existsSync(out) || statSync(out).mtimeMs < statSync(join(ROOT, 'src', f)).mtimeMs;
  });
  if (stale.length) throw new Error(`dist/ is older than src/${stale[0]}: run \`npm run build\` first (this test runs bin/unrolled.js)`);
});

interface Line {
  type: string;
  step?: number;
  lastLoss?: number;
  gradNorm?: number;
  [k: string]: unknown;
}

function parseLines(text: string): Line[] {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Line);
}

/** Runs the CLI to completion. */
function runCli(args: string[]): Promise<{ code: number | null; lines: Line[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '',
      err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, lines: parseLines(out), stderr: err }));
  });
}

/** Runs the CLI and SIGKILLs it as soon as it reports a checkpoint at step ≥ `after`. */
function runAndKill(
  args: string[],
  after: number,
): Promise<{ signal: NodeJS.Signals | null; code: number | null; lines: Line[]; pid: number }> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '',
      killed = false;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (killed) return;
      const seen = parseLines(out.slice(0, out.lastIndexOf('\n') + 1));
      if (seen.some((l) => l.type === 'checkpoint' && l.step! >= after)) {
        killed = true;
        child.stdout!.pause(); // the child now blocks on its next writes once the pipe is full
        child.kill('SIGKILL');
      }
    });
    child.stderr!.resume();
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ signal, code, lines: parseLines(out.slice(0, out.lastIndexOf('\n') + 1)), pid: child.pid! }),
    );
  });
}

const stepLines = (lines: Line[]): Line[] => lines.filter((l) => l.type === 'step');

describe('kill -9 mid-training, then --resume', () => {
  it('continues bit-identically to an uninterrupted run, and a torn checkpoint write leaves the previous one intact', async () => {
    const killedPath = tmp.path('killed.ckpt');
    const fullPath = tmp.path('full.ckpt');
    // the uninterrupted run and the run to be killed, side by side
    const [full, killed] = await Promise.all([
      runCli([...FLAGS, ...EVERY5, '--checkpoint', fullPath]),
      runAndKill([...FLAGS, ...EVERY5, '--checkpoint', killedPath], 10),
    ]);
    expect(full.code, full.stderr).toBe(0);
    expect(stepLines(full.lines).map((l) => l.step)).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
    expect(killed.signal).toBe('SIGKILL');
    const lastSeen = stepLines(killed.lines).at(-1)!.step!;
    expect(lastSeen).toBeLessThan(STEPS); // it really died mid-training
    // what it printed before dying is the same run
    expect(stepLines(killed.lines).map((l) => l.lastLoss)).toEqual(
      stepLines(full.lines)
        .slice(0, lastSeen)
        .map((l) => l.lastLoss),
    );

    // the checkpoint on disk: whole, at a multiple of 5, at or before the last step printed
    const before = new Uint8Array(readFileSync(killedPath));
    const saved = checkpointInfo(before).step;
    expect(saved % 5).toBe(0);
    expect(saved).toBeGreaterThanOrEqual(10);
    expect(saved).toBeLessThanOrEqual(lastSeen);

    // a crash in the middle of the next checkpoint write: a torn temporary file of the dead
    // process, never renamed over the checkpoint
    const torn = tempPathFor(killedPath).replace(`.tmp-${process.pid}-`, `.tmp-${killed.pid}-`);
    writeFileSync(torn, before.subarray(0, before.length >> 1));
    expect(new Uint8Array(readFileSync(killedPath))).toEqual(before);
    expect(checkpointInfo(readFileSync(killedPath)).step).toBe(saved);

    // resume to the same total
    const resumed = await runCli(['train', '--resume', killedPath, '--steps', String(STEPS), '--every', '1', '--json', '--sample', '0']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toBe('');
    expect(resumed.lines.find((l) => l.type === 'resume')).toMatchObject({ step: saved });
    const after = stepLines(resumed.lines);
    expect(after.map((l) => l.step)).toEqual(Array.from({ length: STEPS - saved }, (_, i) => saved + i + 1));
    const reference = stepLines(full.lines).slice(saved);
    expect(after.map((l) => l.lastLoss)).toEqual(reference.map((l) => l.lastLoss));
    expect(after.map((l) => l.gradNorm)).toEqual(reference.map((l) => l.gradNorm));
    // the whole training state at the end is the same bits (weights, moments, carried state, data position)
    expect(new Uint8Array(readFileSync(killedPath))).toEqual(new Uint8Array(readFileSync(fullPath)));
    // the dead process's temporary files were cleaned up by the resumed run's saves
    expect(readdirSync(tmp.dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});

describe('Ctrl-C', () => {
  it('SIGINT saves a checkpoint at the current step and exits 130; --resume goes on from there', async () => {
    const path = tmp.path('sigint.ckpt');
    const result = await new Promise<{ code: number | null; lines: Line[] }>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...FLAGS, '--checkpoint', path, '--checkpoint-every', '1000'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '',
        sent = false;
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (!sent && /"type":"step","step":20,/.test(out)) {
          sent = true;
          child.kill('SIGINT');
        }
      });
      child.stderr.resume();
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, lines: parseLines(out) }));
    });
    expect(result.code).toBe(130);
    const stop = result.lines.find((l) => l.type === 'interrupted')!;
    expect(stop.step).toBeGreaterThanOrEqual(20);
    expect(stop.step).toBeLessThan(STEPS);
    expect(result.lines.filter((l) => l.type === 'checkpoint').map((l) => l.step)).toEqual([stop.step]);
    expect(checkpointInfo(readFileSync(path)).step).toBe(stop.step);
    const resumed = await runCli(['train', '--resume', path, '--steps', String(stop.step! + 3), '--json', '--every', '1', '--sample', '0']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(stepLines(resumed.lines).map((l) => l.step)).toEqual([1, 2, 3].map((i) => stop.step! + i));
  });
});
