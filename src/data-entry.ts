/**
 * `import … from 'unrolled/data'` in browsers and bundlers: datasets, padding, vocabularies and
 * streams. Under Node, `unrolled/data` resolves to src/node/data-entry.ts, which adds files.
 */
// Re-exports only.
export { CharVocab, type CharVocabJSON } from './data/vocab.js';
export { VOCAB_METADATA_KEY } from './worker/protocol.js';
export { TokenStream, type TokenChunk, type TokenStreamOptions, type StreamPosition } from './data/stream.js';
export {
  padSequences,
  padTokens,
  padTargets,
  lengthsToMask,
  type PadOptions,
  type PaddedSequences,
  type PaddedTokens,
  type PaddedTargets,
} from './data/padding.js';
export {
  SequenceDataset,
  planBatches,
  paddingFraction,
  type SequenceExample,
  type SequenceDatasetOptions,
  type DatasetBatch,
  type BatchPlanOptions,
  type TargetKind,
} from './data/dataset.js';
export { parseCsv, parseJsonl, type TableOptions } from './data/tables.js';
export { SequenceFile, readSequences, type SequenceSourceOptions, type SourceSequence } from './data/sequence-file.js';
export { TextStream, blobSource, type ByteSource, type TextStreamOptions } from './data/text-stream.js';
