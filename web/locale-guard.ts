// Imported first by main.ts, ahead of uPlot: ES modules are evaluated in import order, and uPlot
// builds an Intl.NumberFormat from navigator.language as soon as it is evaluated.
import { repairNavigatorLocale } from './locale.js';

if (typeof navigator !== 'undefined') {
  const reported = navigator.language;
  if (repairNavigatorLocale(navigator)) {
    console.info(`unrolled demo: navigator.language "${reported}" is not a language tag Intl accepts; using "${navigator.language}"`);
  }
}
