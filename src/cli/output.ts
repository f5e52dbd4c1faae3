// What the commands print: JSON lines (--json), plain lines (not a terminal), or a progress bar
// with the loss, steps/s and ETA on a terminal (cli-progress), with events logged above it.
import cliProgress from 'cli-progress';

/** Where a command writes; the default is the process's stdout and stderr. */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
  /** stdout is a terminal: show a progress bar instead of step lines. Default false. */
  tty?: boolean;
  /** The terminal stream the progress bar draws on (with tty). */
  stream?: NodeJS.WritableStream;
  /** Handle SIGINT during train and sample (checkpoint, then exit 130). Default false. */
  signals?: boolean;
  /** The reader of stdout went away (EPIPE, e.g. `| head`): the command stops quietly. */
  closed?(): boolean;
  /** Calls `handler` once stdout is closed; returns a function that stops listening. */
  onClosed?(handler: () => void): () => void;
}

/** Exit code of a command whose stdout was closed under it (as for a process ended by SIGPIPE). */
export const EXIT_CLOSED = 141;

let stdoutClosed = false;
let watching = false;
const closedHandlers = new Set<() => void>();

/**
 * A reader that goes away (`unrolled sample x | head -c 10`) makes writes to stdout fail with
 * EPIPE, which Node reports as an 'error' event: without a listener that is an uncaught exception
 * and a stack trace. With this one, output stops quietly and the command is told to stop.
 */
function watchStdout(): void {
  if (watching) return;
  watching = true;
  const gone = (e: NodeJS.ErrnoException): void => {
    if (e?.code !== 'EPIPE' && e?.code !== 'ERR_STREAM_DESTROYED') {
      process.stderr.write(`unrolled: cannot write the output: ${e?.message ?? String(e)}\n`);
    }
    if (stdoutClosed) return;
    stdoutClosed = true;
    for (const h of [...closedHandlers]) h();
  };
  process.stdout.on('error', gone);
  process.stderr.on('error', () => {
    /* nowhere left to report it */
  });
}

export const processIO: CliIO = {
  out: (line) => {
    watchStdout();
    if (!stdoutClosed) process.stdout.write(`${line}\n`);
  },
  err: (line) => {
    watchStdout();
    if (!process.stderr.destroyed) process.stderr.write(`${line}\n`);
  },
  get tty() {
    return process.stdout.isTTY === true && process.env.TERM !== 'dumb';
  },
  stream: process.stdout,
  signals: true,
  closed: () => stdoutClosed,
  onClosed: (handler) => {
    watchStdout();
    closedHandlers.add(handler);
    return () => {
      closedHandlers.delete(handler);
    };
  },
};

/**
 * Why a long command should stop: Ctrl-C (SIGINT, with io.signals) or a closed stdout. `check()`
 * returns the reason once one came; a second Ctrl-C ends the process at once (exit 130).
 */
export function stopSignals(io: CliIO): { readonly reason: 'SIGINT' | 'EPIPE' | null; dispose(): void } {
  let reason: 'SIGINT' | 'EPIPE' | null = null;
  const onSigint = (): void => {
    if (reason === 'SIGINT') process.exit(130);
    reason = 'SIGINT';
  };
  if (io.signals) process.on('SIGINT', onSigint);
  const offClosed =
    io.onClosed?.(() => {
      reason ??= 'EPIPE';
    }) ?? (() => {});
  if (io.closed?.()) reason = 'EPIPE';
  return {
    get reason() {
      return reason;
    },
    dispose() {
      if (io.signals) process.off('SIGINT', onSigint);
      offClosed();
    },
  };
}

export type Event = Record<string, unknown> & { type: string };

export function fmt(x: number, digits = 4): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

export function sci(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toExponential(digits) : String(x);
}

/** Prints events as JSON lines or text; during training, optionally behind a progress bar. */
export class Reporter {
  private multi: cliProgress.MultiBar | null = null;
  private bar: cliProgress.SingleBar | null = null;

  constructor(
    private readonly io: CliIO,
    readonly json: boolean,
  ) {}

  /** An event: its JSON object with --json, else its text (nothing if text is null). */
  emit(obj: Event, text: string | null): void {
    if (this.json) {
      this.io.out(JSON.stringify(obj));
      return;
    }
    if (text === null) return;
    if (this.multi) this.multi.log(`${text}\n`);
    else this.io.out(text);
  }

  /** Whether step lines are replaced by a progress bar. */
  get barActive(): boolean {
    return this.bar !== null;
  }

  /** Starts a progress bar (terminal, not --json) from `start` to `total` steps. */
  startBar(start: number, total: number): void {
    if (this.json || !this.io.tty || !this.io.stream) return;
    this.multi = new cliProgress.MultiBar({
      stream: this.io.stream,
      format: 'train |{bar}| {value}/{total} | loss {loss} | {rate} steps/s | ETA {eta_formatted}',
      barCompleteChar: '\u2588',
      barIncompleteChar: '\u2591',
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
      fps: 10,
    });
    this.bar = this.multi.create(total, start, { loss: '-', rate: '-' });
  }

  private barLoss = '-';
  private barRate = '-';

  /** Moves the bar to `step`; a NaN loss or rate keeps the last one shown. */
  updateBar(step: number, loss: number, rate: number): void {
    if (!this.bar) return;
    if (Number.isFinite(loss)) this.barLoss = fmt(loss);
    if (Number.isFinite(rate)) this.barRate = rate.toFixed(1);
    this.bar.update(step, { loss: this.barLoss, rate: this.barRate });
  }

  stopBar(): void {
    if (!this.multi) return;
    this.multi.update(); // flushes the lines logged since the last redraw
    this.multi.stop();
    this.multi = null;
    this.bar = null;
  }
}

const BLOCKS = '▁▂▃▄▅▆▇█';

export interface Sparkline {
  line: string;
  min: number;
  max: number;
  ratio: number;
  argmin: number;
  argmax: number;
}

/**
 * A one-line log-scale chart of positive values (at most `width` characters: longer series are
 * averaged geometrically in buckets); zeros and non-finite values show as spaces.
 */
export function sparkline(values: ArrayLike<number>, width = 64): Sparkline {
  let min = Infinity,
    max = 0,
    argmin = -1,
    argmax = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v > 0) || !Number.isFinite(v)) continue;
    if (v < min) {
      min = v;
      argmin = i;
    }
    if (v > max) {
      max = v;
      argmax = i;
    }
  }
  const n = values.length,
    cols = Math.min(n, width);
  if (argmax < 0) return { line: ' '.repeat(cols), min: 0, max: 0, ratio: NaN, argmin, argmax };
  const lo = Math.log(min),
    span = Math.log(max) - lo;
  let line = '';
  for (let c = 0; c < cols; c++) {
    const from = Math.floor((c * n) / cols),
      to = Math.floor(((c + 1) * n) / cols);
    let s = 0,
      k = 0;
    for (let i = from; i < to; i++) {
      const v = values[i];
      if (v > 0 && Number.isFinite(v)) {
        s += Math.log(v);
        k++;
      }
    }
    if (k === 0) {
      line += ' ';
      continue;
    }
    const level = span > 0 ? Math.round(((s / k - lo) / span) * (BLOCKS.length - 1)) : BLOCKS.length - 1;
    line += BLOCKS[Math.max(0, Math.min(BLOCKS.length - 1, level))];
  }
  return { line, min, max, ratio: max / min, argmin, argmax };
}

/** The diagnose event of one step: ‖∂E/∂h_t‖ per layer, as JSON and as text lines. */
export function diagnoseEvent(step: number, norms: ArrayLike<number>[]): { obj: Event; text: string } {
  const layers = norms.map((n, l) => {
    const s = sparkline(n);
    return { layer: l, norms: Array.from(n), min: s.min, max: s.max, ratio: s.ratio, s };
  });
  const T = norms[0]?.length ?? 0;
  const lines = [`step ${step}: ‖∂E/∂h_t‖ over t = 1…${T} (log scale, left = earliest)`];
  for (const { layer, s } of layers) {
    lines.push(
      `  layer ${layer} ${s.line}  max/min ${sci(s.ratio)} (min ${sci(s.min)} at t=${s.argmin + 1}, max ${sci(s.max)} at t=${s.argmax + 1})`,
    );
  }
  return {
    obj: {
      type: 'diagnose',
      step,
      layers: layers.map(({ layer, norms: values, min, max, ratio }) => ({
        layer,
        norms: values,
        min,
        max,
        ratio: Number.isFinite(ratio) ? ratio : null,
      })),
    },
    text: lines.join('\n'),
  };
}
