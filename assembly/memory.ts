// The only allocation in the core: arenas requested by the host, one or two per model.

// Returns a 16-byte aligned block of `bytes` (zero-filled), growing memory as needed.
export function alloc(bytes: usize): usize {
  const p = heap.alloc(bytes);
  memory.fill(p, 0, bytes);
  return p;
}

export function free(ptr: usize): void {
  heap.free(ptr);
}

export function zero(ptr: usize, bytes: usize): void {
  memory.fill(ptr, 0, bytes);
}

// 1 when this build uses the f32x4 kernels, 0 for the scalar build.
export function simd_enabled(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}
