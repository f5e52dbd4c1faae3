// Where arenas live. The Wasm backend allocates from the core's linear memory; the js backend
// from a growable typed array with the same interface, so that model code computes one layout
// and addresses every tensor by an element offset into `f`, whatever the backend.
//
// `f` is a getter: memory.grow (Wasm) or a reallocation (js) replaces the buffer, and every
// reader must take `f` again after any alloc. Offsets are never 0 (0 means "none" in the ABI).
import type { CoreExports } from './core.js';
import { MemoryLimitError } from '../errors.js';

export type Dtype = 'float32' | 'float64';

export interface ArenaMemory {
  readonly dtype: Dtype;
  /** The current float view of the whole memory. */
  readonly f: Float32Array | Float64Array;
  /** The same memory as bytes (little-endian access): where the layer descriptors are read and written. */
  readonly bytes: DataView;
  /** Reserves `count` zeroed floats, 4-aligned; returns the element offset. */
  alloc(count: number): number;
  free(offset: number): void;
  zero(offset: number, count: number): void;
  /** Floats currently reserved (for leak checks). */
  readonly reserved: number;
}

/** 32-bit Wasm memory holds at most 4 GiB; the allocator itself needs a little of it. */
export const MAX_WASM_FLOATS = Math.floor((4 * 1024 ** 3 - 64 * 1024 ** 2) / 4);

/**
 * The core's allocator (AssemblyScript's TLSF) serves single blocks below 1 GiB only: larger
 * requests end in env.abort. Blocks of this many bytes or more are refused before the core is
 * called (a margin of 64 bytes below 1 GiB covers the allocator's block header and alignment).
 */
export const MAX_BLOCK_BYTES = 1024 ** 3 - 64;

/** Floats of the largest single block WasmMemory.alloc accepts (a multiple of 4, below MAX_BLOCK_BYTES). */
export const MAX_BLOCK_FLOATS = Math.floor((MAX_BLOCK_BYTES - 1) / 16) * 4;

/** Floats a request for `count` takes: at least 4 and a multiple of 4 (16-byte aligned for SIMD). */
function blockFloats(count: number): number {
  return Math.max(4, Math.ceil(count / 4) * 4);
}

/** The blocks a memory has handed out and their sizes: the bookkeeping both memories share. */
abstract class Blocks {
  private readonly sizes = new Map<number, number>();
  protected total = 0;
  private byteView: DataView | null = null;

  /** The buffer that holds the memory now (replaced when it grows). */
  protected abstract get buffer(): ArrayBufferLike;

  get bytes(): DataView {
    const buffer = this.buffer;
    if (this.byteView?.buffer !== buffer) this.byteView = new DataView(buffer);
    return this.byteView;
  }

  get reserved(): number {
    return this.total;
  }

  protected record(offset: number, floats: number): number {
    this.sizes.set(offset, floats);
    this.total += floats;
    return offset;
  }

  /** Forgets the block at `offset` and returns its size; undefined when it is not reserved, so that a second free does nothing. */
  protected forget(offset: number): number | undefined {
    const size = this.sizes.get(offset);
    if (size === undefined) return undefined;
    this.sizes.delete(offset);
    this.total -= size;
    return size;
  }
}

export class WasmMemory extends Blocks implements ArenaMemory {
  readonly dtype = 'float32' as const;
  private view: Float32Array;

  constructor(private readonly core: CoreExports) {
    super();
    this.view = new Float32Array(core.memory.buffer);
  }

  get f(): Float32Array {
    if (this.view.buffer !== this.core.memory.buffer) this.view = new Float32Array(this.core.memory.buffer);
    return this.view;
  }

  protected get buffer(): ArrayBufferLike {
    return this.core.memory.buffer;
  }

  alloc(count: number): number {
    const floats = blockFloats(count);
    // 1. the whole of 32-bit memory
    if (!Number.isSafeInteger(floats) || floats + this.total > MAX_WASM_FLOATS) {
      throw new MemoryLimitError(
        `cannot reserve ${count} floats (${fmtBytes(count * 4)}): 32-bit Wasm memory holds at most ` +
          `${fmtBytes(MAX_WASM_FLOATS * 4)} and ${fmtBytes(this.total * 4)} are in use`,
      );
    }
    // 2. one block: refused here, before the core's allocator would abort on it
    if (floats * 4 >= MAX_BLOCK_BYTES) {
      throw new MemoryLimitError(
        `cannot reserve ${count} floats (${fmtBytes(count * 4)}) as one block: the Wasm core allocates single ` +
          `blocks of less than 1 GiB − 64 bytes (at most ${MAX_BLOCK_FLOATS} floats); use a smaller model or batch`,
      );
    }
    // 3. the engine may still refuse to grow memory (a host limit, or memory taken by other models)
    let ptr: number;
    try {
      ptr = this.core.alloc(floats * 4) >>> 0;
    } catch (e) {
      throw new MemoryLimitError(
        `the engine refused to grow Wasm memory for ${count} floats (${fmtBytes(floats * 4)}; ` +
          `${fmtBytes(this.total * 4)} already in use, memory is ${fmtBytes(this.core.memory.buffer.byteLength)}): ` +
          `${e instanceof Error ? e.message : String(e)}`,
      );
    }
    return this.record(ptr / 4, floats);
  }

  free(offset: number): void {
    if (this.forget(offset) === undefined) return;
    this.core.free(offset * 4);
  }

  zero(offset: number, count: number): void {
    this.core.zero(offset * 4, count * 4);
  }
}

/** A growable typed array with a first-fit free list: the js backend's "linear memory". */
export class JsMemory extends Blocks implements ArenaMemory {
  private arr: Float32Array | Float64Array;
  private top = 4; // offset 0 is reserved for "none"
  private freeList: Array<[number, number]> = [];

  constructor(
    readonly dtype: Dtype = 'float32',
    initial = 1024,
  ) {
    super();
    this.arr = dtype === 'float64' ? new Float64Array(initial) : new Float32Array(initial);
  }

  get f(): Float32Array | Float64Array {
    return this.arr;
  }

  protected get buffer(): ArrayBufferLike {
    return this.arr.buffer;
  }

  alloc(count: number): number {
    const floats = blockFloats(count);
    if (!Number.isSafeInteger(floats) || floats > 2 ** 31) {
      throw new MemoryLimitError(`cannot reserve ${count} floats in the js backend`);
    }
    let offset = -1;
    for (let i = 0; i < this.freeList.length; i++) {
      const [o, s] = this.freeList[i];
      if (s >= floats) {
        offset = o;
        if (s === floats) this.freeList.splice(i, 1);
        else this.freeList[i] = [o + floats, s - floats];
        break;
      }
    }
    if (offset < 0) {
      offset = this.top;
      this.top += floats;
      if (this.top > this.arr.length) this.grow(this.top);
    }
    this.arr.fill(0, offset, offset + floats);
    return this.record(offset, floats);
  }

  free(offset: number): void {
    const size = this.forget(offset);
    if (size === undefined) return;
    this.freeList.push([offset, size]);
    this.freeList.sort((a, b) => a[0] - b[0]);
    const merged: Array<[number, number]> = [];
    for (const block of this.freeList) {
      const last = merged[merged.length - 1];
      if (last && last[0] + last[1] === block[0]) last[1] += block[1];
      else merged.push([block[0], block[1]]);
    }
    const tail = merged[merged.length - 1];
    if (tail && tail[0] + tail[1] === this.top) {
      this.top = tail[0];
      merged.pop();
    }
    this.freeList = merged;
  }

  zero(offset: number, count: number): void {
    this.arr.fill(0, offset, offset + count);
  }

  private grow(min: number): void {
    let size = this.arr.length;
    while (size < min) size *= 2;
    const next = this.dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
    next.set(this.arr);
    this.arr = next;
  }
}

export function fmtBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}
