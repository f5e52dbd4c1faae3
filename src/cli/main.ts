// The command line: `unrolled train | sample | eval | bench | gradcheck | help`.
// A user's mistake (unknown flag, bad value, unreadable or invalid file) prints one line to
// stderr and returns exit code 2; a failing environment (a full disk) exit code 1; Ctrl-C 130; a
// reader of stdout that went away (| head) 141, quietly. Anything else is a bug: main prints a
// note and the stack and returns 70.
import { UnrolledError } from '../errors.js';
import { nearestKey } from '../validate/index.js';
import '../node/load-node.js';
// before any core is compiled: --relaxed may ask for the relaxed-SIMD builds
import '../node/relaxed-simd.js';
import { EnvironmentError, UsageError } from './args.js';
import { BENCH_HELP, benchCommand } from './bench.js';
import { EVAL_HELP, evalCommand } from './eval.js';
import { EXPERIMENT_HELP, experimentCommand } from './experiment.js';
import { GRADCHECK_HELP, gradcheckCommand } from './gradcheck.js';
import { FIT_HELP, fitCommand } from './fit.js';
import { EXIT_CLOSED, processIO, type CliIO } from './output.js';
import { SAMPLE_HELP, sampleCommand } from './sample.js';
import { TRAIN_HELP, train } from './train.js';

export type { CliIO } from './output.js';

const GENERAL_HELP = `unrolled: train recurrent networks (RNN, LSTM, GRU) with backpropagation through time
on a WebAssembly SIMD core.

Usage:
  unrolled train [options]            train a model (flags without a command: train)
  unrolled sample FILE                generate text from a checkpoint or a saved model
  unrolled eval FILE                  the loss of a checkpoint or saved model on a text or its task
                                      (or on a CSV / JSON Lines file: --csv, --jsonl)
  unrolled fit --csv FILE             fit a model to numeric sequences (CSV or --jsonl FILE) with
                                      validation, early stopping and a progress bar
  unrolled bench [options]            time a training step on wasm and js
  unrolled gradcheck [options]        check the gradients against finite differences
  unrolled experiment NAME            reproduce a claim about BPTT: a figure and a report
                                      (vanishing, exploding, truncation, adding, bptt-vs-rtrl-vs-es)
  unrolled help [COMMAND]             this help, or a command's (also COMMAND --help)

Examples:
  unrolled train                                   an LSTM character model on the built-in text
  unrolled train --text book.txt --steps 2000 --checkpoint book.ckpt --checkpoint-every 100
  unrolled train --resume book.ckpt --steps 4000   continue exactly where it stopped
  unrolled sample book.ckpt --length 500 --temperature 0.7
  unrolled train --task adding                     the adding problem with a tanh RNN (stays near 0.167)
  unrolled train --task adding --cell lstm --steps 2000 --diagnose 100
  unrolled gradcheck --cell gru --layers 2 --hidden 8
  unrolled fit --csv series.csv --target classes --patience 3 --save series.safetensors
  unrolled experiment vanishing --quick            ||dE/dh_t|| over t for four cells, in seconds
`;

const COMMANDS: Record<string, { help: string; run: (args: string[], io: CliIO) => Promise<number> }> = {
  train: { help: TRAIN_HELP, run: train },
  sample: { help: SAMPLE_HELP, run: sampleCommand },
  eval: { help: EVAL_HELP, run: evalCommand },
  bench: { help: BENCH_HELP, run: benchCommand },
  gradcheck: { help: GRADCHECK_HELP, run: gradcheckCommand },
  experiment: { help: EXPERIMENT_HELP, run: experimentCommand },
  fit: { help: FIT_HELP, run: fitCommand },
};

/** Runs the command line `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const code = await run(argv, io);
  return io.closed?.() && (code === 0 || code === 130) ? EXIT_CLOSED : code;
}

async function run(argv: string[], io: CliIO): Promise<number> {
  try {
    // a bare `unrolled` is someone finding out what it does, not asking for a 300-step run
    if (argv.length === 0 || (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h'))) {
      io.out(GENERAL_HELP);
      return 0;
    }
    const [command, ...rest] = argv[0].startsWith('-') ? ['train', ...argv] : argv;
    if (command === 'help') {
      if (rest.length === 0) {
        io.out(GENERAL_HELP);
        return 0;
      }
      const c = rest.length === 1 ? COMMANDS[rest[0]] : undefined;
      if (c) {
        io.out(c.help);
        return 0;
      }
      throw new UsageError(`unknown help topic ${JSON.stringify(rest.join(' '))} (commands: ${Object.keys(COMMANDS).join(', ')})`);
    }
    const c = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!c) {
      const near = nearestKey(command, [...Object.keys(COMMANDS), 'help']);
      throw new UsageError(
        `unknown command ${JSON.stringify(command)} (${near ? `did you mean ${near}? ` : ''}commands: ${Object.keys(COMMANDS).join(', ')}, help)`,
      );
    }
    return await c.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`unrolled: ${oneLine(e.message)}`);
      return 2;
    }
    if (e instanceof EnvironmentError) {
      io.err(`unrolled: ${oneLine(e.message)}`);
      return 1;
    }
    if (e instanceof UnrolledError) {
      // raised by the library on a value the flags let through (a model too large, a bad checkpoint)
      io.err(`unrolled: ${oneLine(e.message)}`);
      return ['INVALID_ARGUMENT', 'INVALID_CONFIG', 'OUT_OF_MEMORY', 'BAD_CHECKPOINT', 'FILE', 'NON_FINITE'].includes(e.code) ? 2 : 1;
    }
    const err = e as Error;
    io.err(
      `unrolled: internal error (a bug in unrolled, not in how it was called; please report it with the command line):\n${err?.stack ?? String(e)}`,
    );
    return 70;
  }
}

/** One line that cannot drive the terminal: newlines folded, other control characters escaped. */
function oneLine(s: string): string {
  let out = '';
  for (const ch of s.replace(/\s*\n\s*/g, ' ')) {
    const c = ch.codePointAt(0)!;
    out += c < 0x20 || (c >= 0x7f && c <= 0x9f) ? `\\u${c.toString(16).padStart(4, '0')}` : ch;
  }
  return out;
}
