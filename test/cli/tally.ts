// Counts adversarial cases per class and outcome, and prints the table when a file's tests end
// (the numbers go into the closing note).
import { afterAll } from 'vitest';

export type Outcome = 'typed error' | 'correct behaviour';

export interface Tally {
  /** Records one case of `cls` that ended in `outcome`. */
  add(cls: string, outcome: Outcome, n?: number): void;
}

export function tally(file: string): Tally {
  const counts = new Map<string, number>();
  afterAll(() => {
    const rows = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `  ${k.padEnd(56)} ${String(n).padStart(6)}`);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    console.log(
      `adversarial cases in ${file} (class / outcome: count)\n${rows.join('\n')}\n  ${'total'.padEnd(56)} ${String(total).padStart(6)}`,
    );
  });
  return {
    add(cls, outcome, n = 1) {
      const k = `${cls} / ${outcome}`;
      counts.set(k, (counts.get(k) ?? 0) + n);
    },
  };
}
