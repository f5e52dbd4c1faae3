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
  /** Handle SIGINT during training (checkpoint, then exit 130). Default false. */
  signals?: boolean;
}

export const processIO: CliIO = {
  out: (line) => { process.stdout.write(line + '\n'); },
  err: (line) => { process.stderr.write(line + '\n'); },
  get tty() { return process.stdout.isTTY === true && process.env.TERM !== 'dumb'; },
  stream: process.stdout,
  signals: true,
};

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

  constructor(private readonly io: CliIO, readonly json: boolean) {}

  /** An event: its JSON object with --json, else its text (nothing if text is null). */
  emit(obj: Event, text: string | null): void {
    if (this.json) { this.io.out(JSON.stringify(obj)); return; }
    if (text === null) return;
    if (this.multi) this.multi.log(text + '\n');
    else this.io.out(text);
  }

  /** Whether step lines are replaced by a progress bar. */
  get barActive(): boolean { return this.bar !== null; }

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

export interface Sparkline { line: string; min: number; max: number; ratio: number; argmin: number; argmax: number }

/**
 * A one-line log-scale chart of positive values (at most `width` characters: longer series are
 * averaged geometrically in buckets); zeros and non-finite values show as spaces.
 */
export function sparkline(values: ArrayLike<number>, width = 64): Sparkline {
  let min = Infinity, max = 0, argmin = -1, argmax = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v > 0) || !Number.isFinite(v)) continue;
    if (v < min) { min = v; argmin = i; }
    if (v > max) { max = v; argmax = i; }
  }
  const n = values.length, cols = Math.min(n, width);
  if (argmax < 0) return { line: ' '.repeat(cols), min: 0, max: 0, ratio: NaN, argmin, argmax };
  const lo = Math.log(min), span = Math.log(max) - lo;
  let line = '';
  for (let c = 0; c < cols; c++) {
    const from = Math.floor((c * n) / cols), to = Math.floor(((c + 1) * n) / cols);
    let s = 0, k = 0;
    for (let i = from; i < to; i++) {
      const v = values[i];
      if (v > 0 && Number.isFinite(v)) { s += Math.log(v); k++; }
    }
    if (k === 0) { line += ' '; continue; }
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
    lines.push(`  layer ${layer} ${s.line}  max/min ${sci(s.ratio)} (min ${sci(s.min)} at t=${s.argmin + 1}, max ${sci(s.max)} at t=${s.argmax + 1})`);
  }
  return {
    obj: { type: 'diagnose', step, layers: layers.map(({ layer, norms: values, min, max, ratio }) => ({ layer, norms: values, min, max, ratio: Number.isFinite(ratio) ? ratio : null })) },
    text: lines.join('\n'),
  };
}
