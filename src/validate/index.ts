// The one validation module: the domain of every number, the option keys, and the copies of
// user input that everything behind the public API works on.
export { checkNumber, optionalNumber, inDomain, renderDomain, formatBound } from './domain.js';
export type { NumberDomain, ArgumentErrorClass } from './domain.js';
export { checkKeys, nearestKey, editDistance, MisspellingGuard } from './keys.js';
export { snapshot, snapshotObject, typedArrayKind } from './snapshot.js';
export type { PlainData, PlainTypedArray, SnapshotOptions } from './snapshot.js';
export { copyFloats, copyIds, F32_MAX } from './arrays.js';
export { DOMAINS, MAX_STEPS } from './domains.js';
export { checkClassWeights } from './class-weights.js';
export type { DomainName } from './domains.js';
export { UnknownKeyError, CheckpointFieldError } from './errors.js';
export { domainTable } from './table.js';
export { flattenNested } from './nested.js';
