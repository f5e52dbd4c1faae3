// Every test worker runs as the Node entry does: relaxed SIMD turned on before the first
// compile, so that a test which imports src/ directly sees the same default core as a user of
// 'unrolled' under Node (the relaxed build where the engine has it; reproducible → simd).
import '../../src/node/relaxed-simd.js';
