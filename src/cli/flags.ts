// Every flag of the command line, declared once: its name, kind, domain, default and help text.
// Parsing (which flags a command takes, strings or booleans), validation (the domain of each
// value) and the help pages are all derived from this table, and the domains of the numbers that
// a character-model run shares with the training worker (and their defaults, except the number of
// steps: a command-line run is a quick look, 300) come from the worker's protocol, so the two
// front ends accept the same values.
import { DOMAINS, type NumberDomain } from '../validate/index.js';
import { RUN_CHOICES, RUN_DOMAINS, TRAINING_DEFAULTS as RUN } from '../worker/protocol.js';
import { INITS, OPTIMIZERS, TASKS, type RunConfig } from './tasks.js';

export type Command = 'train' | 'sample' | 'eval' | 'bench' | 'gradcheck' | 'experiment' | 'fit';

export interface FlagDef {
  /** int / number: a decimal number in `domain`; choice: one of `choices`; file: a non-empty path; text: any string (parsed by the command); boolean: no value. */
  kind: 'boolean' | 'int' | 'number' | 'choice' | 'file' | 'text';
  short?: string;
  /** What the value looks like in the help (N, X, FILE, ...). */
  value?: string;
  choices?: readonly string[];
  domain?: Readonly<NumberDomain>;
  /** The default when the flag is absent (when it is one value; otherwise the command decides and the help says so). */
  default?: number | string;
  /** Help text; continuation lines start with "\n". `{default}` is replaced by the default. */
  help: string;
  /** Per command: a different help text, default or domain (same flag, same kind). */
  per?: Partial<Record<Command, { help?: string; default?: number | string; domain?: Readonly<NumberDomain> }>>;
  /** The field of a RunConfig it sets (a flag given with --resume must agree with the checkpoint). */
  field?: keyof RunConfig;
}

const int = (min: number, max: number, doc?: string): Readonly<NumberDomain> => Object.freeze({ integer: true, min, max, doc });
/** A flag that takes one of `choices`, `fallback` when absent (the help names it with {default}). */
const choice = (choices: readonly string[], fallback: string, help: string): FlagDef => ({
  kind: 'choice',
  choices,
  default: fallback,
  help,
});

export const FLAGS = {
  // ── task and data
  task: {
    kind: 'choice',
    value: 'NAME',
    choices: TASKS,
    default: 'char',
    field: 'task',
    help: `char (default): next character of a text, stateful truncated BPTT;
adding: sum of two marked values (MSE at the last step; answering 1
always scores about 0.167); copy: repeat 10 symbols after a delay;
reber: next symbol of the embedded Reber grammar; sine: forecast a
noisy sine wave`,
  },
  text: {
    kind: 'file',
    value: 'FILE',
    help: 'train on this UTF-8 text (the char task) instead of the built-in corpus',
    per: {
      eval: { help: 'char task: evaluate on this UTF-8 text (default: the training text)' },
      sample: {
        help: 'a model file without a stored vocabulary: the text it was trained on\n(its distinct characters, in code-point order, are the vocabulary)',
      },
    },
  },
  // ── model
  cell: { kind: 'choice', choices: RUN_CHOICES.cell, field: 'cell', help: 'default lstm (rnn for adding)' },
  nonlinearity: { kind: 'choice', choices: ['tanh', 'relu'], default: 'tanh', field: 'nonlinearity', help: 'rnn only; default tanh' },
  init: { kind: 'choice', choices: INITS, default: 'default', field: 'init', help: "default: PyTorch's U(+-1/sqrt(H))" },
  hidden: { kind: 'int', domain: RUN_DOMAINS.hidden, default: RUN.hidden, field: 'hidden', help: 'hidden size, default {default}' },
  layers: { kind: 'int', domain: RUN_DOMAINS.layers, default: RUN.layers, field: 'layers', help: 'stacked layers, default {default}' },
  'proj-size': {
    kind: 'int',
    domain: DOMAINS.projSize,
    field: 'projSize',
    help: "lstm only: project each hidden state to N features (PyTorch's\nproj_size; below --hidden), default off",
  },
  bidirectional: {
    kind: 'boolean',
    field: 'bidirectional',
    help: "each layer also reads every sequence backwards (PyTorch's\nbidirectional=True; whole sequences only)",
  },
  dropout: {
    kind: 'number',
    value: 'P',
    domain: DOMAINS.dropout,
    default: 0,
    field: 'dropout',
    help: 'while training, zero each output of every layer but the last with\nprobability P (needs --layers 2 or more), default {default}',
  },
  // ── training
  batch: {
    kind: 'int',
    value: 'B',
    domain: RUN_DOMAINS.batch,
    default: RUN.batch,
    field: 'batch',
    help: 'sequences per batch, default {default}',
    per: {
      gradcheck: { help: 'sequences, default {default}', default: 2, domain: int(1, 4096) },
      eval: { help: 'sequences per batch (default: the training batch; a model file: 32)' },
      fit: { default: 32 },
    },
  },
  seq: {
    kind: 'int',
    value: 'T',
    domain: RUN_DOMAINS.seq,
    field: 'seq',
    help: `steps per sequence: default 64 (char, sine), 150 (adding), 40 (copy:
10 symbols, then a delay of T-20); reber: the longest string, default 50`,
    per: {
      gradcheck: { help: 'steps of the batch, default 5 (copy: at least 3, reber: the longest\nstring, at least 9)', domain: int(1, 4096) },
    },
  },
  tbptt: {
    kind: 'text',
    value: 'K1,K2',
    field: 'tbptt',
    help: `char: every K1 new characters, backpropagate through the last K2
(K2 >= K1; default K1 = K2 = --seq)`,
  },
  optimizer: {
    kind: 'choice',
    value: 'NAME',
    choices: OPTIMIZERS,
    default: 'adam',
    field: 'optimizer',
    help: 'adam (default), adamw, sgd, rmsprop, adagrad',
  },
  lr: { kind: 'number', value: 'X', domain: RUN_DOMAINS.lr, default: RUN.lr, field: 'lr', help: 'learning rate, default {default}' },
  momentum: { kind: 'number', value: 'X', domain: DOMAINS.momentum, default: 0, field: 'momentum', help: 'sgd only, default {default}' },
  'weight-decay': { kind: 'number', value: 'X', domain: DOMAINS.weightDecay, field: 'weightDecay', help: 'default 0 (0.01 for adamw)' },
  schedule: {
    kind: 'text',
    value: 'SPEC',
    field: 'schedule',
    help: `learning-rate schedule: constant, step:size=N[,gamma=G],
exponential:gamma=G, cosine[:total=N,min=F] (total defaults to
--steps, and a resumed run keeps it); add warmup=N to any,
e.g. cosine:warmup=100`,
  },
  clip: {
    kind: 'number',
    value: 'X',
    domain: RUN_DOMAINS.clip,
    default: RUN.clip,
    field: 'clip',
    help: 'clip the global gradient norm to X, default {default} (0: off)',
  },
  'clip-value': {
    kind: 'number',
    value: 'X',
    domain: { ...DOMAINS.clipValue, finite: true },
    field: 'clipValue',
    help: 'clamp every gradient element to [-X, X] (after --clip), default off',
  },
  seed: {
    kind: 'int',
    domain: RUN_DOMAINS.seed,
    default: RUN.seed,
    field: 'seed',
    help: 'seed of the weights and the data, default {default}',
    per: {
      sample: { help: 'seed of the sampler, default {default}' },
      eval: { help: "seed of the evaluation data, default {default} (not the training data's)", default: 12345 },
      experiment: { help: 'seed of the weights, data and perturbations, default {default}', default: 1 },
    },
  },
  backend: {
    kind: 'choice',
    choices: RUN_CHOICES.backend,
    default: RUN.backend,
    field: 'backend',
    help: 'wasm (default) or the js reference',
    per: {
      sample: { help: "default: the checkpoint's backend (wasm for a model file)" },
      eval: { help: "default: the checkpoint's backend (wasm for a model file)" },
    },
  },
  steps: {
    kind: 'int',
    domain: RUN_DOMAINS.steps,
    default: 300,
    help: 'total updates, default {default} (with --resume: up to this total)',
    per: { experiment: { help: 'the step budget of each run (each experiment has its own default,\nsee the list above)' } },
  },
  // ── checkpoints
  checkpoint: {
    kind: 'file',
    value: 'PATH',
    help: `save the whole training state here (atomically) at the end, and
every --checkpoint-every N steps; never one of the input files`,
  },
  'checkpoint-every': { kind: 'int', domain: int(1, 1e9), help: 'how often to save, in steps' },
  resume: {
    kind: 'file',
    value: 'PATH',
    help: `continue a run from its checkpoint, bit-identical to never having
stopped; the configuration comes from the checkpoint (flags that
disagree are refused) and saving continues to PATH unless
--checkpoint says otherwise`,
    per: {
      fit: {
        help: `continue a fit from its checkpoint (--checkpoint), bit-identical to
never having stopped: weights, optimizer moments, the epoch and
batch, the epoch's losses and the early-stopping record; settings
and data come from the checkpoint (flags that disagree are refused,
--epochs may grow) and saving continues to PATH unless --checkpoint
says otherwise`,
      },
    },
  },
  reproducible: {
    kind: 'boolean',
    help: `use the Wasm core that gives the same bits on every engine (SIMD,
not relaxed SIMD): the default`,
  },
  threads: {
    kind: 'int',
    domain: int(1, 64),
    default: 1,
    help: `threads for the large matrix products (the threads build with a pool
of worker threads; the same bits as one thread of the same core, also with
--relaxed), default {default}`,
  },
  relaxed: {
    kind: 'boolean',
    help: `allow the relaxed-SIMD core (faster on some machines; results may
differ in the last bits between engines)`,
    per: { bench: { help: 'allow the relaxed-SIMD core (default: the reproducible one train uses)' } },
  },
  // ── output
  every: { kind: 'int', domain: int(1, 1e9), default: 10, help: 'a line every N steps, default {default} (and the first and last)' },
  diagnose: {
    kind: 'int',
    value: '[N]',
    domain: int(0, 1e9),
    help: `every N steps (default: --every) chart ||dE/dh_t|| over t per layer,
on a log scale, with its max/min ratio (vanishing or exploding
gradients show as a steep slope)`,
  },
  json: {
    kind: 'boolean',
    help: `one JSON object per line (types header, resume, step, skipped,
diagnose, checkpoint, done, sample, eval, interrupted)`,
    per: {
      sample: { help: 'one JSON object' },
      eval: { help: 'one JSON object' },
      bench: { help: 'one JSON object per backend' },
      gradcheck: { help: 'one JSON object per parameter, then a result object' },
    },
  },
  sample: {
    kind: 'int',
    domain: int(0, 1e6),
    default: 300,
    help: 'char task: characters to generate at the end, default {default} (0: none)',
  },
  temperature: {
    kind: 'number',
    value: 'X',
    domain: RUN_DOMAINS.temperature,
    default: RUN.temperature,
    help: 'sampling temperature, default {default} (0: always the most likely)',
  },
  // ── sample
  length: { kind: 'int', domain: DOMAINS.generateSteps, default: 300, help: 'ids to generate after the prime, default {default}' },
  prime: { kind: 'text', value: 'TEXT', help: 'what the model reads first (default: a newline for text, "B" for reber)' },
  // ── eval
  batches: { kind: 'int', domain: int(1, 1e6), default: 10, help: 'synthetic tasks: batches to average, default {default}' },
  // ── fit (and eval MODEL --csv/--jsonl): numeric sequences from a file
  csv: { kind: 'file', value: 'FILE', help: 'numeric sequences from a CSV file (layouts above)' },
  jsonl: { kind: 'file', value: 'FILE', help: 'numeric sequences from a JSON Lines file (layouts above)' },
  target: choice(
    ['values', 'classes'],
    'values',
    'values (regression, MSE) or classes (integer labels, cross-entropy),\ndefault {default}',
  ),
  at: {
    kind: 'choice',
    choices: ['every', 'last'],
    help: 'a target at every step or one per sequence (default: last for a\nCSV with one sequence per line, else every)',
  },
  'group-by': { kind: 'text', value: 'COLUMN', help: 'rows are steps, grouped into sequences by this column (field)' },
  features: {
    kind: 'text',
    value: 'A,B',
    help: 'with --group-by: the input columns (default: all but the id and\nthe targets; required for JSON Lines)',
  },
  targets: { kind: 'text', value: 'A,B', help: 'with --group-by: the target columns (default: the last column)' },
  label: choice(['first', 'last'], 'first', 'CSV with one sequence per line: the label column, default {default}'),
  epochs: { kind: 'int', domain: int(1, 1e6), default: 10, help: 'passes over the training sequences, default {default}' },
  'val-split': {
    kind: 'number',
    value: 'F',
    domain: Object.freeze({ min: 0, max: 1, maxOpen: true }),
    default: 0.2,
    help: 'share of the sequences held out for validation, default {default}\n(0: none; the metric is then the training loss)',
  },
  patience: {
    kind: 'int',
    domain: int(0, 1e6),
    help: "stop after N epochs without improvement of the metric and keep\nthe best epoch's weights (default: run every epoch)",
  },
  'min-delta': {
    kind: 'number',
    value: 'X',
    domain: DOMAINS.minDelta,
    default: 0,
    help: 'smallest change that counts as an improvement, default {default}',
  },
  'class-weights': {
    kind: 'text',
    value: 'W,W,...',
    help: "--target classes: one weight per class for the cross-entropy\n(PyTorch's CrossEntropyLoss weight), e.g. 1,2,0.5; default all 1",
  },
  metric: choice(
    ['loss', 'accuracy', 'perplexity', 'mae'],
    'loss',
    'the validation metric shown and monitored, default {default}\n(accuracy and perplexity for classes, mae for values)',
  ),
  save: { kind: 'file', value: 'PATH', help: "write the trained model here (a model file; with --patience, the\nbest epoch's weights)" },
  // ── bench
  backends: { kind: 'text', value: 'LIST', help: 'which to time: wasm,js (default both)' },
  time: {
    kind: 'int',
    value: 'MS',
    domain: int(1, 3_600_000),
    default: 500,
    help: 'time spent per backend after the warm-up, default {default}',
  },
  'max-steps': { kind: 'int', domain: int(1, 1e6), default: 100, help: 'at most this many timed steps per backend, default {default}' },
  // ── gradcheck
  samples: { kind: 'int', domain: int(0, 1e9), default: 16, help: 'elements checked per parameter, default {default} (0: all)' },
  eps: {
    kind: 'number',
    value: 'X',
    domain: Object.freeze({ min: 0, minOpen: true, max: 1 }),
    default: 1e-6,
    help: 'finite-difference step, default 1e-6',
  },
  tolerance: {
    kind: 'number',
    value: 'X',
    domain: Object.freeze({ min: 0, minOpen: true, max: 1e6 }),
    default: 1e-5,
    help: 'largest relative error that passes, default 1e-5',
  },
  // ── experiment
  quick: { kind: 'boolean', help: 'the small version that runs in seconds (what the tests run)' },
  out: { kind: 'file', value: 'DIR', help: 'write report.md and figure.svg here (default docs/experiments/NAME)' },
  help: { kind: 'boolean', short: 'h', help: 'this help' },
} as const satisfies Record<string, FlagDef>;

export type FlagName = keyof typeof FLAGS;

export interface Section {
  title: string;
  flags: FlagName[];
}

export interface CommandFlags {
  /** The help's sections, in order: every flag the command takes. */
  sections: Section[];
  /** Flags accepted only to be refused with a reason (they belong to a neighbouring command). */
  refused?: Partial<Record<FlagName, string>>;
  /** Flags shown in no section but accepted (none today). */
}

const TASK: Section = { title: 'Task and data', flags: ['task', 'text'] };
const LAYER_OPTIONS: FlagName[] = ['proj-size', 'bidirectional', 'dropout'];
const MODEL: Section = { title: 'Model', flags: ['cell', 'nonlinearity', 'init', 'hidden', 'layers', ...LAYER_OPTIONS] };
const TRAINING: FlagName[] = [
  'batch',
  'seq',
  'tbptt',
  'optimizer',
  'lr',
  'momentum',
  'weight-decay',
  'schedule',
  'clip',
  'clip-value',
  'seed',
];
const FILE_DATA: Section = {
  title: 'Sequences from a file',
  flags: ['csv', 'jsonl', 'target', 'at', 'group-by', 'features', 'targets', 'label'],
};
const NOT_IN_GRADCHECK = 'does not apply (the check runs on the js backend in float64, without an optimizer)';

export const COMMAND_FLAGS: Record<Command, CommandFlags> = {
  train: {
    sections: [
      TASK,
      MODEL,
      { title: 'Training', flags: [...TRAINING, 'backend', 'steps'] },
      { title: 'Checkpoints', flags: ['checkpoint', 'checkpoint-every', 'resume', 'reproducible', 'threads', 'relaxed'] },
      { title: 'Output', flags: ['every', 'diagnose', 'json', 'sample', 'temperature', 'help'] },
    ],
  },
  bench: {
    sections: [
      TASK,
      MODEL,
      { title: 'Training', flags: TRAINING },
      { title: 'Timing', flags: ['backends', 'time', 'max-steps', 'relaxed', 'json', 'help'] },
    ],
    refused: { backend: 'use --backends wasm,js (bench times each backend it is given)' },
  },
  gradcheck: {
    sections: [
      TASK,
      { title: 'Model', flags: [...MODEL.flags, 'seed'] },
      { title: 'Check', flags: ['seq', 'batch', 'samples', 'eps', 'tolerance', 'json', 'help'] },
    ],
    refused: Object.fromEntries(
      ['tbptt', 'optimizer', 'lr', 'momentum', 'weight-decay', 'schedule', 'clip', 'clip-value', 'backend'].map((f) => [
        f,
        NOT_IN_GRADCHECK,
      ]),
    ),
  },
  sample: { sections: [{ title: 'Options', flags: ['length', 'temperature', 'seed', 'prime', 'text', 'backend', 'json', 'help'] }] },
  eval: { sections: [{ title: 'Options', flags: ['text', 'batches', 'batch', 'seed', 'backend', 'json', 'help'] }, FILE_DATA] },
  experiment: { sections: [{ title: 'Options', flags: ['quick', 'out', 'seed', 'steps', 'help'] }] },
  fit: {
    sections: [
      { ...FILE_DATA, flags: [...FILE_DATA.flags, 'val-split'] },
      { title: 'Model', flags: ['cell', 'nonlinearity', 'hidden', 'layers', ...LAYER_OPTIONS] },
      {
        title: 'Training',
        flags: [
          'epochs',
          'batch',
          'optimizer',
          'lr',
          'momentum',
          'weight-decay',
          'clip',
          'clip-value',
          'seed',
          'backend',
          'class-weights',
          'metric',
          'patience',
          'min-delta',
        ],
      },
      { title: 'Output', flags: ['save', 'checkpoint', 'checkpoint-every', 'resume', 'json', 'help'] },
    ],
  },
};

/** The flags a command accepts (shown and refused ones). */
export function commandFlagNames(command: Command): FlagName[] {
  const c = COMMAND_FLAGS[command];
  return [...new Set([...c.sections.flatMap((s) => s.flags), ...(Object.keys(c.refused ?? {}) as FlagName[])])];
}

/** The definition of a flag as `command` sees it (its per-command help, default and domain applied). */
export function flagFor(command: Command, name: FlagName): FlagDef {
  const def: FlagDef = FLAGS[name];
  const o = def.per?.[command];
  return o ? { ...def, ...o } : def;
}

const COLUMN = 25;

function helpLine(command: Command, name: FlagName): string {
  const def = flagFor(command, name);
  const value =
    def.kind === 'boolean'
      ? ''
      : ` ${def.value ?? (def.kind === 'choice' ? def.choices!.join('|') : def.kind === 'int' ? 'N' : def.kind === 'number' ? 'X' : 'VALUE')}`;
  const head = `  ${def.short ? `-${def.short}, ` : ''}--${name}${value}`;
  const text = def.help.replace('{default}', String(def.default));
  const [first, ...rest] = text.split('\n');
  const lead = head.length < COLUMN - 1 ? head.padEnd(COLUMN) : `${head}   `;
  return [lead + first, ...rest.map((l) => ' '.repeat(COLUMN) + l)].join('\n');
}

/** The help's flag sections of a command, derived from the table. */
export function flagHelp(command: Command, titles?: string[]): string {
  return COMMAND_FLAGS[command].sections
    .filter((s) => !titles || titles.includes(s.title))
    .map((s) => `${s.title}:\n${s.flags.map((f) => helpLine(command, f)).join('\n')}`)
    .join('\n\n');
}
