/**
 * `import … from 'unrolled/gradients'`: gradient estimators to compare with BPTT: real-time
 * recurrent learning (`rtrlGradients`, exact forward-mode gradients) and evolution strategies
 * (`EvolutionStrategies`, zeroth-order, with `centeredRanks` fitness shaping).
 * @module unrolled/gradients
 */
// Re-exports only.
export { rtrlGradients, RTRL_MAX_SENSITIVITY_FLOATS, type RtrlResult } from './train/rtrl.js';
export { EvolutionStrategies, centeredRanks, type EvolutionStrategiesOptions, type EsEstimate, type EsStepResult } from './train/es.js';
