// The command line: `unrolled train …` (the default command) and `unrolled help`.
// A user's mistake (unknown flag, bad value, unreadable file) prints one line to stderr and
// returns exit code 2; anything else is a bug and propagates (bin/unrolled.js prints it).
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CORPUS } from '../data/corpus.js';
import { TokenStream } from '../data/stream.js';
import * as adding from '../data/tasks/adding.js';
import { CharVocab } from '../data/vocab.js';
import type { InitOption } from '../model/init.js';
import type { Model } from '../model/model.js';
import { Rng } from '../model/rng.js';
import { createModel, loadCore, Trainer, UnrolledError, type CellKind, type Nonlinearity, type OptimizerName, type StepResult } from '../node/index.js';

/** Where the command writes; the default is the process's stdout and stderr. */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
}

const processIO: CliIO = {
  out: (line) => { process.stdout.write(line + '\n'); },
  err: (line) => { process.stderr.write(line + '\n'); },
};

/** A mistake of the user: one line on stderr, exit code 2. */
class UsageError extends Error {}

const GENERAL_HELP = `unrolled: train recurrent networks (RNN, LSTM, GRU) with backpropagation through time
on a WebAssembly SIMD core.

Usage:
  unrolled [train] [options]     train a model (the default command)
  unrolled help [train]          this help, or the options of train
  unrolled train --help

Examples:
  unrolled train                                   an LSTM character model on the built-in text
  unrolled train --text book.txt --steps 2000      a character model on your own text
  unrolled train --task adding                     the adding problem with a tanh RNN (stays near 0.167)
  unrolled train --task adding --cell lstm --steps 2000   ... and with an LSTM
`;

const TRAIN_HELP = `Usage: unrolled train [options]

Tasks:
  --task char|adding     char (default): predict the next character of a text, trained with
                         stateful truncated BPTT over chunks of --seq characters;
                         adding: the adding problem (sum of two marked values, MSE at the
                         last step; always answering 1 scores about 0.167)
  --text FILE            char task: train on this UTF-8 text instead of the built-in corpus

Model:
  --cell rnn|lstm|gru    default lstm (char), rnn (adding)
  --nonlinearity tanh|relu   rnn only; default tanh
  --init default|irnn|orthogonal|xavier_uniform|xavier_normal   default: PyTorch's U(+-1/sqrt(H))
  --hidden N             hidden size, default 128
  --layers N             stacked layers, default 1

Training:
  --steps N              updates, default 300
  --batch B              sequences per batch, default 32
  --seq T                steps per sequence or chunk: default 64 (char), 150 (adding)
  --optimizer NAME       adam (default), adamw, sgd, rmsprop, adagrad
  --lr X                 learning rate, default 0.002
  --clip X               clip the global gradient norm to X, default 5 (0: no clipping)
  --seed N               seed of the weights, the data and the samples, default 0
  --backend wasm|js      wasm (default; SIMD where the engine has it) or the js reference

Output:
  --every N              print a line every N steps, default 10 (and always the first and last)
  --json                 one JSON object per line instead of text
  --sample N             char task: characters to generate at the end, default 300
  --temperature X        char task: sampling temperature, default 0.8 (0: most likely)
  -h, --help             this help

Each line shows the step, the loss (the mean over the steps since the previous line), the
gradient norm before clipping, and the speed in steps per second.
`;

const OPTIONS = {
  task: { type: 'string' },
  text: { type: 'string' },
  cell: { type: 'string' },
  nonlinearity: { type: 'string' },
  init: { type: 'string' },
  hidden: { type: 'string' },
  layers: { type: 'string' },
  steps: { type: 'string' },
  batch: { type: 'string' },
  seq: { type: 'string' },
  lr: { type: 'string' },
  optimizer: { type: 'string' },
  clip: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  every: { type: 'string' },
  json: { type: 'boolean' },
  sample: { type: 'string' },
  temperature: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface TrainArgs {
  task: 'char' | 'adding';
  text: string | null;
  cell: CellKind;
  nonlinearity: Nonlinearity;
  init: 'default' | 'irnn' | 'orthogonal' | 'xavier_uniform' | 'xavier_normal';
  hidden: number;
  layers: number;
  steps: number;
  batch: number;
  seq: number;
  lr: number;
  optimizer: OptimizerName;
  clip: number;
  seed: number;
  backend: 'wasm' | 'js';
  every: number;
  json: boolean;
  sample: number;
  temperature: number;
}

/** Runs the command line `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  try {
    const [command, ...rest] = argv.length === 0 || argv[0].startsWith('-') ? ['train', ...argv] : argv;
    switch (command) {
      case 'train':
        return await train(rest, io);
      case 'help':
        if (rest.length === 0) { io.out(GENERAL_HELP + '\n' + TRAIN_HELP); return 0; }
        if (rest.length === 1 && rest[0] === 'train') { io.out(TRAIN_HELP); return 0; }
        throw new UsageError(`unknown help topic "${rest.join(' ')}" (try: unrolled help train)`);
      default:
        throw new UsageError(`unknown command "${command}" (commands: train, help)`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`unrolled: ${e.message}`);
      return 2;
    }
    if (e instanceof UnrolledError) {
      // raised by the library on a value the flags let through (e.g. a model too large)
      io.err(`unrolled: ${e.message}`);
      return e.code === 'INVALID_ARGUMENT' || e.code === 'INVALID_CONFIG' || e.code === 'OUT_OF_MEMORY' ? 2 : 1;
    }
    throw e;
  }
}

function parseTrainArgs(args: string[]): { help: true } | (TrainArgs & { help?: false }) {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new UsageError(`train: ${parseError(e)} (see unrolled train --help)`);
  }
  if (values.help) return { help: true };
  const str = (name: string): string | undefined => values[name] as string | undefined;
  const task = choice('task', str('task'), ['char', 'adding'] as const, 'char');
  const char = task === 'char';
  const cell = choice('cell', str('cell'), ['rnn', 'lstm', 'gru'] as const, char ? 'lstm' : 'rnn');
  const nonlinearity = choice('nonlinearity', str('nonlinearity'), ['tanh', 'relu'] as const, 'tanh');
  if (nonlinearity !== 'tanh' && cell !== 'rnn') throw new UsageError(`train: --nonlinearity ${nonlinearity} needs --cell rnn (the gates of a ${cell} fix its nonlinearities)`);
  const text = str('text') ?? null;
  if (text !== null && !char) throw new UsageError('train: --text is for the char task only');
  if (text === '') throw new UsageError('train: --text needs a file name');
  return {
    task, text, cell, nonlinearity,
    init: choice('init', str('init'), ['default', 'irnn', 'orthogonal', 'xavier_uniform', 'xavier_normal'] as const, 'default'),
    hidden: int('hidden', str('hidden'), 128, 1, 1 << 16),
    layers: int('layers', str('layers'), 1, 1, 64),
    steps: int('steps', str('steps'), 300, 1, 1e9),
    batch: int('batch', str('batch'), 32, 1, 1 << 16),
    seq: int('seq', str('seq'), char ? 64 : 150, char ? 1 : 2, 1 << 20),
    lr: float('lr', str('lr'), 2e-3, 0, 1e3, true),
    optimizer: choice('optimizer', str('optimizer'), ['adam', 'adamw', 'sgd', 'rmsprop', 'adagrad'] as const, 'adam'),
    clip: float('clip', str('clip'), 5, 0, 1e12, false),
    seed: int('seed', str('seed'), 0, 0, 0xffffffff),
    backend: choice('backend', str('backend'), ['wasm', 'js'] as const, 'wasm'),
    every: int('every', str('every'), 10, 1, 1e9),
    json: values.json === true,
    sample: int('sample', str('sample'), 300, 0, 1e6),
    temperature: float('temperature', str('temperature'), 0.8, 0, 1e3, false),
  };
}

/** One line from node:util parseArgs' error (its messages can run to several sentences). */
function parseError(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const name = /'(-[^' ]*)/.exec(err.message ?? '')?.[1];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': return `unknown option ${name ?? ''}`.trim();
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': return `unexpected argument ${/'([^']*)'/.exec(err.message ?? '')?.[1] ?? ''}`.trim();
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take/.test(err.message ?? '')) return `option ${name} takes no value`;
      if (/ambiguous/.test(err.message ?? '')) return `option ${name}: write a value that starts with "-" as ${name}=VALUE`;
      return `option ${name} needs a value`;
    default: return (err.message ?? String(e)).split('\n')[0];
  }
}

function choice<T extends string>(flag: string, v: string | undefined, options: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (!options.includes(v as T)) throw new UsageError(`train: --${flag}: expected one of ${options.join(', ')}, got "${v}"`);
  return v as T;
}

function int(flag: string, v: string | undefined, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  const n = /^\+?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`train: --${flag}: expected an integer in [${min}, ${max}], got "${v}"`);
  return n;
}

function float(flag: string, v: string | undefined, fallback: number, min: number, max: number, minOpen: boolean): number {
  if (v === undefined) return fallback;
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n) || (minOpen ? n <= min : n < min) || n > max) {
    throw new UsageError(`train: --${flag}: expected a number ${minOpen ? '>' : '>='} ${min}, got "${v}"`);
  }
  return n;
}

async function train(args: string[], io: CliIO): Promise<number> {
  const parsed = parseTrainArgs(args);
  if (parsed.help) { io.out(TRAIN_HELP); return 0; }
  const a = parsed;
  const emit = (obj: Record<string, unknown>, text: string): void => io.out(a.json ? JSON.stringify(obj) : text);

  // data first: a bad --text fails before the core is loaded
  let text = '';
  let source = 'the built-in corpus';
  if (a.task === 'char') {
    if (a.text !== null) {
      try {
        text = await readFile(a.text, 'utf8');
      } catch (e) {
        throw new UsageError(`train: --text ${a.text}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message.split('\n')[0]}`);
      }
      source = a.text;
    } else {
      text = CORPUS;
    }
    if (text.length === 0) throw new UsageError(`train: --text ${a.text}: the file is empty`);
  }
  const vocab = a.task === 'char' ? CharVocab.fromText(text) : null;
  const ids = vocab ? vocab.encode(text) : null;
  if (ids && ids.length < a.batch * a.seq + 1) {
    throw new UsageError(`train: ${source} has ${ids.length} characters, too few for --batch ${a.batch} x --seq ${a.seq} (needs at least ${a.batch * a.seq + 1})`);
  }

  const core = a.backend === 'wasm' ? await loadCore() : undefined;
  const simd = core?.variant === 'simd';
  const init: InitOption = a.init;
  const model = await createModel({
    backend: a.backend,
    ...(core ? { core } : {}),
    cell: a.cell,
    nonlinearity: a.cell === 'rnn' ? a.nonlinearity : undefined,
    numLayers: a.layers,
    hiddenSize: a.hidden,
    seed: a.seed,
    init,
    ...(vocab
      ? { input: 'tokens' as const, inputSize: vocab.size, outputSize: vocab.size }
      : { input: 'dense' as const, inputSize: adding.inputSize, outputSize: adding.outputSize }),
  });
  let trainer: Trainer | null = null;
  try {
    trainer = new Trainer(model, {
      loss: vocab ? { loss: 'cross-entropy', at: 'every' } : adding.lossSpec,
      optimizer: { name: a.optimizer, lr: a.lr },
      clipNorm: a.clip > 0 ? a.clip : undefined,
    });

    const backendText = a.backend === 'wasm' ? `wasm (${simd ? 'SIMD' : 'scalar, no SIMD in this engine'})` : 'js (reference TypeScript)';
    const cellText = a.cell === 'rnn' ? `rnn ${a.nonlinearity}` : a.cell;
    emit(
      {
        type: 'header', task: a.task, cell: a.cell, nonlinearity: a.cell === 'rnn' ? a.nonlinearity : null, init: a.init,
        hidden: a.hidden, layers: a.layers, batch: a.batch, seq: a.seq, steps: a.steps,
        optimizer: a.optimizer, lr: a.lr, clip: a.clip > 0 ? a.clip : null, seed: a.seed,
        parameters: model.numParameters, backend: a.backend, simd,
        ...(vocab ? { source, characters: ids!.length, vocab: vocab.size } : { baselineMSE: adding.BASELINE_MSE }),
      },
      [
        `unrolled train: ${a.task === 'char' ? `characters of ${source} (${ids!.length} characters, vocabulary ${vocab!.size})` : `adding problem, T=${a.seq}`}`,
        `  model    ${cellText}, ${a.layers} x ${a.hidden} hidden, init ${a.init}, ${model.numParameters.toLocaleString('en-US')} parameters`,
        `  training ${a.steps} steps of batch ${a.batch} x ${a.seq} steps${a.task === 'char' ? ' (stateful truncated BPTT)' : ''}, ${a.optimizer} lr ${a.lr}, clip ${a.clip > 0 ? a.clip : 'off'}, seed ${a.seed}`,
        `  backend  ${backendText}`,
      ].join('\n'),
    );

    // the next batch of the task
    let next: () => StepResult;
    if (ids) {
      const stream = new TokenStream(ids, { T: a.seq, B: a.batch, vocabSize: vocab!.size });
      const t = trainer;
      next = () => t.stepStateful(stream.next());
    } else {
      const rng = new Rng(a.seed);
      const t = trainer;
      next = () => t.step(adding.addingBatch({ T: a.seq, B: a.batch }, rng));
    }

    const started = performance.now();
    let lastTime = started, lastStep = 0, sum = 0, count = 0, skipped = 0;
    let firstLoss = NaN, finalLoss = NaN;
    for (let s = 1; s <= a.steps; s++) {
      const r = next();
      if (r.skipped) {
        skipped++;
        emit({ type: 'skipped', step: s, loss: r.loss, gradNorm: r.gradNorm }, `step ${s}: skipped (loss ${r.loss}, gradient norm ${r.gradNorm})`);
      } else {
        sum += r.loss;
        count++;
        if (Number.isNaN(firstLoss)) firstLoss = r.loss;
        finalLoss = r.loss;
      }
      if (s === 1 || s % a.every === 0 || s === a.steps) {
        const now = performance.now();
        const rate = (s - lastStep) / ((now - lastTime) / 1000);
        const mean = count ? sum / count : NaN;
        emit(
          { type: 'step', step: s, loss: mean, lastLoss: r.loss, gradNorm: r.gradNorm, clipped: r.clipped, lr: r.lr, stepsPerSecond: rate },
          `step ${String(s).padStart(String(a.steps).length)}  loss ${fmt(mean)}  grad ${fmt(r.gradNorm, 3)}${r.clipped ? ' (clipped)' : '          '}  ${rate.toFixed(1)} steps/s`,
        );
        lastTime = now; lastStep = s; sum = 0; count = 0;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    emit(
      { type: 'done', steps: a.steps, skipped, seconds, stepsPerSecond: a.steps / seconds, firstLoss, finalLoss },
      `done: ${a.steps} steps in ${seconds.toFixed(1)} s (${(a.steps / seconds).toFixed(1)} steps/s), loss ${fmt(firstLoss)} -> ${fmt(finalLoss)}${skipped ? `, ${skipped} skipped` : ''}`,
    );

    if (vocab) sampleText(model, vocab, text, a, emit);
    else evaluateAdding(model, a, emit);
    return 0;
  } finally {
    trainer?.dispose();
    model.dispose();
  }
}

function fmt(x: number, digits = 4): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

type Emit = (obj: Record<string, unknown>, text: string) => void;

/** Generates --sample characters after a prime: the start of a seeded, randomly chosen line of the text. */
function sampleText(model: Model, vocab: CharVocab, text: string, a: TrainArgs, emit: Emit): void {
  if (a.sample === 0) return;
  const rng = new Rng((a.seed ^ 0x2545f491) >>> 0);
  const starts: number[] = [];
  for (let i = 0; i < text.length; i++) if ((i === 0 || text[i - 1] === '\n') && /[A-Za-z]/.test(text[i])) starts.push(i);
  const at = starts.length ? starts[rng.int(starts.length)] : 0;
  let prime = [...text.slice(at, at + 40)].slice(0, 24).join('');
  const cut = prime.lastIndexOf(' ');
  if (cut > 8) prime = prime.slice(0, cut + 1);
  const out = model.generate({ prime: vocab.encode(prime), length: a.sample, temperature: a.temperature, seed: a.seed });
  const sample = vocab.decode(out);
  emit(
    { type: 'sample', prime, temperature: a.temperature, text: sample },
    `\nsample (temperature ${a.temperature}, prime ${JSON.stringify(prime)}):\n\n${prime}${sample}\n`,
  );
}

/** MSE on a fresh batch of 1000 sequences, against the 1/6 baseline of always answering 1. */
function evaluateAdding(model: Model, a: TrainArgs, emit: Emit): void {
  const batch = adding.addingBatch({ T: a.seq, B: 1000 }, new Rng((a.seed ^ 0x9e3779b9) >>> 0));
  const { y } = model.predict(batch, { at: 'last' });
  let e = 0;
  for (let b = 0; b < batch.B; b++) e += (y[b] - batch.y[b]) ** 2;
  const mse = e / batch.B;
  const baseline = adding.constantMSE(batch.y, 1);
  const verdict = mse < 0.1 * adding.BASELINE_MSE ? 'solved' : mse < 0.8 * adding.BASELINE_MSE ? 'learning' : 'at the baseline (no memory yet)';
  emit(
    { type: 'eval', sequences: batch.B, mse, baseline, baselineExpected: adding.BASELINE_MSE },
    `\nadding problem on ${batch.B} fresh sequences: MSE ${fmt(mse)} vs ${fmt(baseline)} for always answering 1 (expected 0.167): ${verdict}`,
  );
}
