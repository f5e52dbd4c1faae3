// Counts of adversarial cases per outcome, printed at the end of a file: the closing
// note reports them per class.
export interface Tally {
  readonly name: string;
  add(outcome: string, n?: number): void;
  readonly counts: Map<string, number>;
}

export function tally(name: string): Tally {
  const counts = new Map<string, number>();
  return {
    name,
    counts,
    add(outcome, n = 1) {
      counts.set(outcome, (counts.get(outcome) ?? 0) + n);
    },
  };
}

export function printTally(t: Tally): void {
  let total = 0;
  for (const n of t.counts.values()) total += n;
  const lines = [...t.counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `  ${String(n).padStart(7)}  ${k}`);
  console.log(`${t.name}: ${total} cases\n${lines.join('\n')}`);
}
