/**
 * `import … from 'unrolled/safetensors'` in browsers and bundlers: the safetensors format itself.
 * Under Node, `unrolled/safetensors` resolves to src/node/safetensors-entry.ts, which adds files.
 */
// Re-exports only.
export {
  encodeSafetensors,
  decodeSafetensors,
  DEFAULT_MAX_HEADER_BYTES,
  type SafetensorsDtype,
  type TensorData,
  type NamedTensor,
  type SafetensorsTensor,
  type DecodedSafetensors,
  type SafetensorsLimits,
} from './model/safetensors.js';
