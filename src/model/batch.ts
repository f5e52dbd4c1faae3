// A batch as the user gives it, and how it is read: every field once, every array copied into
// a typed array the model owns, and only then checked. The copy is what the arena receives, so
// a Proxy or a getter that answers the check with one value and the write with another (an id
// of 10⁹ that would index another model's weights) never reaches memory. Every problem is
// reported with the argument's name, the expected and the actual value.
import { InvalidArgumentError, describe } from '../errors.js';
import type { Dtype } from '../runtime/memory.js';
import { copyFloats, copyIds, F32_MAX } from '../validate/arrays.js';
import { flattenNested } from '../validate/nested.js';
import { checkNumber } from '../validate/domain.js';
import { DOMAINS } from '../validate/domains.js';
import { MisspellingGuard } from '../validate/keys.js';
import type { ResolvedConfig } from './config.js';
import type { ResolvedLoss } from './loss.js';

export { F32_MAX };

export type Numbers = ArrayLike<number>;

/**
 * How a batch's x, y (at every step), mask and lossMask are laid out: 'time-major' [T,B,…] or
 * 'batch-major' [B,T,…] (PyTorch's batch_first). States h0 [L·D,B,R] (R = projSize or H), c0 [L·D,B,H] in both.
 */
export type BatchLayout = 'time-major' | 'batch-major';

export interface Batch {
  /**
   * Input: dense [T,B,I] floats, or [T,B] token ids for a model with input 'tokens' ([B,T,I] /
   * [B,T] for a model with batchFirst). Flat, or (from JavaScript) nested arrays of exactly that shape.
   */
  x: Numbers;
  /** Steps. */
  T: number;
  /** Sequences in the batch. */
  B: number;
  /** Targets: ids [T,B] / [B] for cross-entropy, floats [T,B,O] / [B,O] for mse ([B,T] / [B,T,O] with batchFirst). */
  y?: Numbers;
  /** 0/1 per step and sequence [T,B] ([B,T] with batchFirst): 0 = padding (no loss, state carried unchanged). */
  mask?: Numbers;
  /** Real steps per sequence [B], each in [1, T]: the same as a prefix mask. */
  lengths?: Numbers;
  /**
   * 0/1 per step and sequence [T,B] (loss at 'every' only): rows with 0 add nothing to the loss
   * but, unlike `mask`, the state runs through them as usual (e.g. the copy task's recall
   * steps, or the warm-up part of a truncated-BPTT window).
   */
  lossMask?: Numbers;
  /** Initial hidden state [L·D,B,H] ([L·D,B,projSize] with an LSTM projection; zeros when absent; D = 2 when bidirectional). */
  h0?: Numbers;
  /** Initial cell state [L·D,B,H], LSTM only. */
  c0?: Numbers;
  /**
   * The layout of this batch's arrays; default the model's ('batch-major' with batchFirst, else
   * 'time-major'). The library's data helpers produce time-major batches.
   */
  layout?: BatchLayout;
}

type Floats = Float32Array | Float64Array;

/** A batch read once into arrays the reader owns; valid until the reader's next read(). */
export interface OwnedBatch {
  T: number;
  B: number;
  /** Token ids [T,B] (Int32Array) or dense inputs [T,B,I]. */
  x: Int32Array | Floats;
  /** Class ids or float targets; null without a loss. */
  y: Int32Array | Floats | null;
  /** 0/1 per row [T,B], from `mask` or from `lengths`; null when every step is real. */
  mask: Floats | null;
  lossMask: Floats | null;
  h0: Floats | null;
  c0: Floats | null;
  /** Rows (cross-entropy) the loss counts: real steps, or B at 'last'. 0 without a loss. */
  realRows: number;
  /** A stream chunk's `reset` flag. */
  reset: boolean;
  /** The caller's arrays were batch-major (they are time-major here): results go back batch-major. */
  batchMajor: boolean;
}

// argument names as constants: a training step must not build strings
const NAMES = {
  batch: {
    self: 'batch',
    T: 'batch.T',
    B: 'batch.B',
    x: 'batch.x',
    y: 'batch.y',
    mask: 'batch.mask',
    lengths: 'batch.lengths',
    lossMask: 'batch.lossMask',
    h0: 'batch.h0',
    c0: 'batch.c0',
    layout: 'batch.layout',
  },
  chunk: {
    self: 'chunk',
    T: 'chunk.T',
    B: 'chunk.B',
    x: 'chunk.x',
    y: 'chunk.y',
    mask: 'chunk.mask',
    lengths: 'chunk.lengths',
    lossMask: 'chunk.lossMask',
    h0: 'chunk.h0',
    c0: 'chunk.c0',
    layout: 'chunk.layout',
  },
} as const;

// the words of the errors in each layout, as constants: a training step must not build strings
const WORDS = {
  time: {
    dims: 'T, B',
    dimsI: 'T, B, I',
    dimsO: 'T, B, O',
    xFloats: 'floats [T, B, inputSize]',
    yFloats: 'floats [T, B, outputSize]',
    zeroOne: '0/1 per step [T, B]',
  },
  batch: {
    dims: 'B, T',
    dimsI: 'B, T, I',
    dimsO: 'B, T, O',
    xFloats: 'floats [B, T, inputSize]',
    yFloats: 'floats [B, T, outputSize]',
    zeroOne: '0/1 per step [B, T]',
  },
} as const;
const LAYOUT_NOTE = {
  'time-major': 'layout "time-major"',
  'batch-major': 'layout "batch-major"',
  time: 'time-major; a model with batchFirst: true reads [B, T, …]',
  batch: 'the model has batchFirst: true',
} as const;

// batches may carry fields of their own (a task generator's `markers`); only near misses are refused
const BATCH_KEYS = new MisspellingGuard(['x', 'y', 'T', 'B', 'mask', 'lengths', 'lossMask', 'h0', 'c0', 'layout']);
const CHUNK_KEYS = new MisspellingGuard(['x', 'y', 'T', 'B', 'mask', 'lengths', 'lossMask', 'h0', 'c0', 'reset', 'layout']);

/** T and B: integers in [1, 2^24]. */
export function checkShape(T: unknown, B: unknown, names: { T: string; B: string } = NAMES.batch): void {
  checkNumber(names.T, T, DOMAINS.T, InvalidArgumentError);
  checkNumber(names.B, B, DOMAINS.B, InvalidArgumentError);
}

function zeroOne(argument: string, v: Floats): number {
  let ones = 0;
  for (let i = 0; i < v.length; i++) {
    const m = v[i];
    if (m !== 0 && m !== 1) throw new InvalidArgumentError(`${argument}[${i}]`, '0 or 1', describe(m));
    ones += m;
  }
  return ones;
}

/**
 * Reads user batches into buffers it keeps between calls: with batches of one shape, reading
 * allocates nothing after the first call.
 */
export class BatchReader {
  private readonly out: OwnedBatch = {
    T: 0,
    B: 0,
    x: new Int32Array(0),
    y: null,
    mask: null,
    lossMask: null,
    h0: null,
    c0: null,
    realRows: 0,
    reset: false,
    batchMajor: false,
  };
  // batch-major arrays as read, before they are reordered time-major into the buffers above
  private readonly major = new Map<string, Int32Array | Floats>();
  // plain arrays' elements, each read once, before they are copied and checked
  private readonly plainCopies = new Map<string, unknown[]>();

  /** An initial state h0 or c0 [L, B, width] (L counts both directions), nested or flat, copied into buf. */
  private state(
    key: 'h0' | 'c0',
    argument: string,
    value: unknown,
    L: number,
    b: number,
    width: number,
    widthName: string,
    buf: Floats | undefined,
  ): Floats {
    const shape = this.states;
    shape[0] = L;
    shape[1] = b;
    shape[2] = width;
    const layers = this.cfg.bidirectional ? '2·numLayers' : 'numLayers';
    const flat = flattenNested(argument, value, shape, `${layers}, B, ${widthName}`, 'in every layout', this.plain(key));
    return copyFloats(argument, flat, L * b * width, this.dtype, `floats [${layers}, B, ${widthName}]`, buf);
  }

  private plain(key: string): unknown[] {
    let a = this.plainCopies.get(key);
    if (!a) {
      a = [];
      this.plainCopies.set(key, a);
    }
    return a;
  }
  // the shapes a nested array must have, refilled by each read (no array literal per step)
  private readonly tb: number[] = [0, 0];
  private readonly tbf: number[] = [0, 0, 0];
  private readonly bOnly: number[] = [0];
  private readonly bo: number[] = [0, 0];
  private readonly states: number[] = [0, 0, 0];
  private xIds: Int32Array | undefined;
  private xFloats: Floats | undefined;
  private yIds: Int32Array | undefined;
  private yFloats: Floats | undefined;
  private maskBuf: Floats | undefined;
  private lengthsBuf: Floats | undefined;
  private lossMaskBuf: Floats | undefined;
  private h0Buf: Floats | undefined;
  private c0Buf: Floats | undefined;

  constructor(
    private readonly cfg: ResolvedConfig,
    private readonly dtype: Dtype,
  ) {}

  /**
   * Reads every field of `batch` exactly once, copies and checks it against the model (and,
   * with a loss, the targets). `stream` reads a stateful chunk: no h0, c0, mask or lengths, and
   * its `reset` flag. The result and its arrays are reused by the next read().
   */
  read(batch: unknown, loss: ResolvedLoss | null, stream = false): OwnedBatch {
    const n = stream ? NAMES.chunk : NAMES.batch;
    if (batch === null || typeof batch !== 'object') throw new InvalidArgumentError(n.self, 'an object { x, T, B, ... }', describe(batch));
    // a misspelt optional field (`lenghts`) would be ignored: the batch would train on its padding
    (stream ? CHUNK_KEYS : BATCH_KEYS).check(n.self, batch, InvalidArgumentError);
    const src = batch as Record<string, unknown>;
    const T = src.T,
      B = src.B,
      x = src.x,
      y = src.y,
      mask = src.mask,
      lengths = src.lengths;
    const lossMask = src.lossMask,
      h0 = src.h0,
      c0 = src.c0,
      layout = src.layout,
      reset = stream ? src.reset : undefined;
    if (stream) {
      if (h0 !== undefined)
        throw new InvalidArgumentError(n.h0, 'nothing: stateful training carries its own state and has no padding', describe(h0));
      if (c0 !== undefined)
        throw new InvalidArgumentError(n.c0, 'nothing: stateful training carries its own state and has no padding', describe(c0));
      if (mask !== undefined)
        throw new InvalidArgumentError(n.mask, 'nothing: stateful training carries its own state and has no padding', describe(mask));
      if (lengths !== undefined)
        throw new InvalidArgumentError(n.lengths, 'nothing: stateful training carries its own state and has no padding', describe(lengths));
    }
    checkShape(T, B, n);
    const t = T as number,
      b = B as number;
    const cfg = this.cfg,
      dtype = this.dtype;
    const L = cfg.numLayers * (cfg.bidirectional ? 2 : 1),
      H = cfg.hiddenSize,
      O = cfg.outputSize;
    const out = this.out;
    out.T = t;
    out.B = b;
    out.reset = reset === true;
    const bm = batchMajorOf(n.layout, layout, cfg.batchFirst);
    out.batchMajor = bm;
    // the arrays indexed by step and sequence: [T,B,…] or [B,T,…], flat or nested
    const words = bm ? WORDS.batch : WORDS.time,
      tb = this.tb;
    tb[0] = bm ? b : t;
    tb[1] = bm ? t : b;
    const note = layout !== undefined ? LAYOUT_NOTE[layout as BatchLayout] : bm ? LAYOUT_NOTE.batch : LAYOUT_NOTE.time;
    if (cfg.input === 'tokens') {
      const flat = flattenNested(n.x, x, tb, words.dims, note, this.plain('x'));
      out.x = this.xIds = this.ids('x', n.x, flat, cfg.inputSize, bm, t, b, this.xIds);
    } else {
      const I = cfg.inputSize;
      const flat = flattenNested(n.x, x, this.withFeatures(I), words.dimsI, note, this.plain('x'));
      out.x = this.xFloats = this.floats('x', n.x, flat, words.xFloats, bm, t, b, I, this.xFloats);
    }
    if (mask !== undefined && lengths !== undefined) {
      throw new InvalidArgumentError(n.mask, 'either mask or lengths, not both', 'both');
    }
    let realSteps = t * b;
    out.mask = null;
    if (mask !== undefined) {
      const flat = flattenNested(n.mask, mask, tb, words.dims, note, this.plain('mask'));
      this.maskBuf = this.floats('mask', n.mask, flat, words.zeroOne, bm, t, b, 1, this.maskBuf);
      const m = this.maskBuf;
      realSteps = zeroOne(n.mask, m);
      for (let j = 0; j < b; j++) {
        let any = false;
        for (let s = 0; s < t && !any; s++) any = m[s * b + j] === 1;
        if (!any) throw new InvalidArgumentError(n.mask, 'at least one real step in every sequence', `none in sequence ${j}`);
        // the reverse direction starts at each sequence's last real step: real steps must come first
        if (cfg.bidirectional) {
          for (let s = 1; s < t; s++) {
            if (m[s * b + j] === 1 && m[(s - 1) * b + j] === 0)
              throw new InvalidArgumentError(
                n.mask,
                'real steps first, then padding, in every sequence (a bidirectional model runs packed sequences)',
                `a real step ${s} after padding in sequence ${j}`,
              );
          }
        }
      }
      out.mask = m;
    }
    if (lengths !== undefined) {
      // float64, not int32: a length of 2^32 + 3 must be refused, not wrapped to 3
      this.lengthsBuf = copyFloats(n.lengths, lengths, b, 'float64', 'one length per sequence [B]', this.lengthsBuf);
      const len = this.lengthsBuf;
      realSteps = 0;
      for (let j = 0; j < b; j++) {
        const k = len[j];
        if (!Number.isInteger(k) || k < 1 || k > t)
          throw new InvalidArgumentError(`${n.lengths}[${j}]`, `an integer in [1, ${t}]`, describe(k));
        realSteps += k;
      }
      this.maskBuf = fit(this.maskBuf, t * b, dtype);
      const m = this.maskBuf;
      for (let s = 0; s < t; s++) for (let j = 0; j < b; j++) m[s * b + j] = s < len[j] ? 1 : 0;
      out.mask = m;
    }
    out.h0 = null;
    // h has projSize features with an LSTM projection
    if (h0 !== undefined)
      out.h0 = this.h0Buf =
        cfg.projSize > 0
          ? this.state('h0', n.h0, h0, L, b, cfg.projSize, 'projSize', this.h0Buf)
          : this.state('h0', n.h0, h0, L, b, H, 'hiddenSize', this.h0Buf);
    out.c0 = null;
    if (c0 !== undefined) {
      if (cfg.cell !== 'lstm')
        throw new InvalidArgumentError(n.c0, `no c0 for a ${cfg.cell} (only an LSTM has a cell state)`, describe(c0));
      out.c0 = this.c0Buf = this.state('c0', n.c0, c0, L, b, H, 'hiddenSize', this.c0Buf);
    }
    out.lossMask = null;
    if (lossMask !== undefined) {
      if (loss?.at !== 'every')
        throw new InvalidArgumentError(
          n.lossMask,
          'a loss at "every" step (it weights per-step loss rows)',
          loss ? `at "${loss.at}"` : 'no loss',
        );
      const flat = flattenNested(n.lossMask, lossMask, tb, words.dims, note, this.plain('lossMask'));
      this.lossMaskBuf = this.floats('lossMask', n.lossMask, flat, words.zeroOne, bm, t, b, 1, this.lossMaskBuf);
      const lm = this.lossMaskBuf;
      zeroOne(n.lossMask, lm);
      const m = out.mask;
      let rows = 0;
      for (let i = 0; i < t * b; i++) if (lm[i] === 1 && (m === null || m[i] === 1)) rows++;
      if (rows === 0) throw new InvalidArgumentError(n.lossMask, 'at least one real step that counts in the loss', 'none');
      realSteps = rows;
      out.lossMask = lm;
    }
    out.y = null;
    out.realRows = 0;
    if (!loss) return out;
    const every = loss.at === 'every';
    if (y === undefined) throw new InvalidArgumentError(n.y, `targets for the ${loss.loss} loss`, 'undefined');
    // at the last step the targets are [B] / [B,O] in every layout
    const ybm = bm && every;
    if (loss.loss === 'cross-entropy') {
      let shape = tb;
      if (!every) {
        shape = this.bOnly;
        shape[0] = b;
      }
      const flat = flattenNested(n.y, y, shape, every ? words.dims : 'B', note, this.plain('y'));
      out.y = this.yIds = this.ids('y', n.y, flat, O, ybm, every ? t : 1, b, this.yIds);
    } else {
      let shape = this.bo;
      if (every) shape = this.withFeatures(O);
      else {
        shape[0] = b;
        shape[1] = O;
      }
      const flat = flattenNested(n.y, y, shape, every ? words.dimsO : 'B, O', note, this.plain('y'));
      out.y = this.yFloats = this.floats(
        'y',
        n.y,
        flat,
        every ? words.yFloats : 'floats [B, outputSize]',
        ybm,
        every ? t : 1,
        b,
        O,
        this.yFloats,
      );
    }
    out.realRows = every ? realSteps : b;
    return out;
  }

  /** The shape [·, ·, F] of an array with F features per step and sequence (the first two as in `tb`). */
  private withFeatures(F: number): number[] {
    const s = this.tbf;
    s[0] = this.tb[0];
    s[1] = this.tb[1];
    s[2] = F;
    return s;
  }

  /**
   * T·B·F floats indexed by step and sequence, copied and checked into `own` (reused when it
   * fits) and returned time-major: batch-major input is read into a buffer of its own first and
   * reordered into `own`. (Methods rather than a closure per array: a step allocates nothing.)
   */
  private floats(
    key: string,
    argument: string,
    flat: unknown,
    what: string,
    batchMajor: boolean,
    T: number,
    B: number,
    F: number,
    own: Floats | undefined,
  ): Floats {
    const dtype = this.dtype;
    if (!batchMajor) return copyFloats(argument, flat, T * B * F, dtype, what, own);
    const major = copyFloats(argument, flat, T * B * F, dtype, what, this.major.get(key) as Floats | undefined);
    this.major.set(key, major);
    const dest = fit(own, major.length, dtype);
    batchToTimeMajor(major, T, B, F, dest);
    return dest;
  }

  /** floats() for T·B ids in [0, vocab). */
  private ids(
    key: string,
    argument: string,
    flat: unknown,
    vocab: number,
    batchMajor: boolean,
    T: number,
    B: number,
    own: Int32Array | undefined,
  ): Int32Array {
    if (!batchMajor) return copyIds(argument, flat, T * B, vocab, own);
    const major = copyIds(argument, flat, T * B, vocab, this.major.get(key) as Int32Array | undefined);
    this.major.set(key, major);
    const dest = own && own.length === major.length ? own : new Int32Array(major.length);
    batchToTimeMajor(major, T, B, 1, dest);
    return dest;
  }
}

/** batch.layout, or the model's default when absent. */
function batchMajorOf(argument: string, layout: unknown, batchFirst: boolean): boolean {
  if (layout === undefined) return batchFirst;
  if (layout !== 'time-major' && layout !== 'batch-major')
    throw new InvalidArgumentError(argument, '"time-major" or "batch-major"', describe(layout));
  return layout === 'batch-major';
}

/** out[t,b,f] = src[b,t,f]: batch-major [B,T,F] to time-major [T,B,F]. */
export function batchToTimeMajor(src: ArrayLike<number>, T: number, B: number, F: number, out: { [i: number]: number }): void {
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) for (let f = 0; f < F; f++) out[(t * B + b) * F + f] = src[(b * T + t) * F + f];
}

/** out[b,t,f] = src[t,b,f]: time-major [T,B,F] to batch-major [B,T,F]. */
export function timeToBatchMajor(src: ArrayLike<number>, T: number, B: number, F: number, out: { [i: number]: number }): void {
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) for (let f = 0; f < F; f++) out[(b * T + t) * F + f] = src[(t * B + b) * F + f];
}

function fit(buf: Floats | undefined, n: number, dtype: Dtype): Floats {
  if (buf && buf.length === n && (dtype === 'float32') === buf instanceof Float32Array) return buf;
  return dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
}
