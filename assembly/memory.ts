// The only allocation in the core: arenas requested by the host, one or two per model.

// Returns a 16-byte aligned, zero-filled block of `bytes` bytes, growing the memory as needed.
export function alloc(bytes: u32): usize {
  const p = heap.alloc(bytes);
  memory.fill(p, 0, bytes);
  return p;
}

// Returns a block from alloc() to the allocator (0: nothing).
export function free(ptr: usize): void {
  heap.free(ptr);
}

// Sets `bytes` bytes at ptr to 0.
export function zero(ptr: usize, bytes: u32): void {
  memory.fill(ptr, 0, bytes);
}

// 1 for the SIMD builds (simd, relaxed, threads: f32x4 kernels), 0 for the scalar build.
export function simd_enabled(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}
