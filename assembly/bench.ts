// The bench builds (build-bench/unrolled.bench.wasm and its relaxed-SIMD twin
// unrolled.bench-relaxed.wasm, never shipped): the production ABI plus the
// kernels that only bench/gemm.ts and the GEMM tests need, kept out of the library's module.
// scripts/gen-abi.mjs writes bench/abi.generated.ts (BenchExports) from this file as from index.ts.

// # The production ABI
export * from "./index";

// # Strided products
// The unpacked baseline that the packed product is measured against.
export { gemm_nn_f32x4, gemm_tn_f32x4, gemm_nt_f32x4, gemm_nn_scalar, gemm_tn_scalar, gemm_nt_scalar } from "./strided";

// # The f32x4 ceilings
// iters rounds of peak_flops_per_round() flops each; consts [in]: 8 floats, m (×4) then d (×4).
// peak_fused_f32x4 returns 0 without relaxed SIMD (the bench build; bench-relaxed has it).
export { peak_mul_add_f32x4, peak_fused_f32x4, peak_flops_per_round } from "./peak";
