/**
 * `import … from 'unrolled/data'`: datasets (`SequenceDataset`, `parseCsv`, `parseJsonl`,
 * `SequenceFile`), padding and masks, the character vocabulary and the token and text streams.
 * Under Node it also reads files: `readSequenceFile`, `openSequenceFile`, `openTextFile` and
 * `fileSource` (absent from the browser's `unrolled/data`).
 * @module unrolled/data
 */
// The data entry under Node: the universal one plus files. Re-exports only.
export * from '../data-entry.js';
// numeric sequence files (CSV, JSON Lines): in memory, or indexed and streamed for fit
export { readSequenceFile, openSequenceFile, type SequenceFileOptions } from './data-files.js';
// text corpora of any size, streamed from disk
export { openTextFile, fileSource } from './text-stream.js';
