// The layer descriptor on the TypeScript side: the fields of assembly/layer_desc.ts (offsets and
// types generated into runtime/layer-desc.generated.ts) stored in, and read from, an arena's
// bytes. Every cell kernel takes one descriptor (Kernels.rnnForward(desc) …); the model writes
// one per layer when it lays out its work arena (layout.ts describeLayer, Network.prepare).
import { LAYER_DESC, LAYER_DESC_BYTES, type LayerDescField } from '../runtime/layer-desc.generated.js';

export type { LayerDescField } from '../runtime/layer-desc.generated.js';

/** Every field of a descriptor as a number: shapes, flags, θ, and tensors as element offsets (0 = none). */
export type LayerDescValues = Record<LayerDescField, number>;

/** The fields in memory order. */
export const LAYER_DESC_FIELDS = Object.keys(LAYER_DESC) as readonly LayerDescField[];

/** Floats an arena reserves for one descriptor: LAYER_DESC_BYTES or more, whether floats are 4 or 8 bytes. */
export const LAYER_DESC_FLOATS = LAYER_DESC_BYTES / 4;

/** A descriptor with every field 0. */
export function emptyLayerDesc(): LayerDescValues {
  return Object.fromEntries(LAYER_DESC_FIELDS.map((f) => [f, 0])) as LayerDescValues;
}

/** Stores `value` into `field` of the descriptor at byte address `at` (pointers as the backend stores them). */
export function storeLayerField(bytes: DataView, at: number, field: LayerDescField, value: number): void {
  const { offset, type } = LAYER_DESC[field];
  if (type === 'f64') bytes.setFloat64(at + offset, value, true);
  else if (type === 'i32') bytes.setInt32(at + offset, value, true);
  else bytes.setUint32(at + offset, value, true);
}

/** The value of `field` of the descriptor at byte address `at`. */
export function loadLayerField(bytes: DataView, at: number, field: LayerDescField): number {
  const { offset, type } = LAYER_DESC[field];
  if (type === 'f64') return bytes.getFloat64(at + offset, true);
  if (type === 'i32') return bytes.getInt32(at + offset, true);
  return bytes.getUint32(at + offset, true);
}

/** Writes every field of a descriptor through a backend (Kernels.setLayerField): once per layout of the arenas. */
export function writeLayerDesc(
  k: { setLayerField(desc: number, field: LayerDescField, value: number): void },
  desc: number,
  values: LayerDescValues,
): void {
  for (const field of LAYER_DESC_FIELDS) k.setLayerField(desc, field, values[field]);
}
