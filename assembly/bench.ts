// The bench build (build-bench/unrolled.bench.wasm, never shipped): the production ABI plus the
// kernels that only bench/gemm.ts and the GEMM tests need, kept out of the library's module.
// scripts/gen-abi.mjs writes bench/abi.generated.ts (BenchExports) from this file as from index.ts.

// # The production ABI
export * from "./index";

// # Strided products
// The unpacked baseline that the packed product is measured against.
export { gemm_nn_f32x4, gemm_tn_f32x4, gemm_nt_f32x4, gemm_nn_scalar, gemm_tn_scalar, gemm_nt_scalar } from "./strided";

// # The f32x4 ceiling
export { peak_mul_add_f32x4 } from "./peak";
