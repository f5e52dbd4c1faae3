// The user examples (examples/forecast-csv.mjs, classify-bigru.mjs, char-generate.mjs) on their
// quick budgets. The training runs use this repository's sources (the examples' `lib`, `data`
// and `tasks` options); the checks are qualitative: each must beat its baseline, which a model
// that did not learn cannot. The last test runs each script as a user would, `node
// examples/<name>.mjs --quick`, against dist/ (`npm test` builds it first), and reads the JSON
// summary the script prints last.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as data from '../../src/node/data-entry.js';
import * as lib from '../../src/node/index.js';
import * as tasks from '../../src/tasks-entry.js';

// computed specifiers: the examples are plain JavaScript without type declarations
const pathOf = (name: string) => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));
const load = async (name: string) => import(pathOf(name));
const run = promisify(execFile);

describe('user examples (quick budgets)', () => {
  it('forecast-csv: the GRU beats the naive last-value forecast on validation', async () => {
    const { forecastCsv } = await load('forecast-csv.mjs');
    const r = await forecastCsv({ quick: true, lib, data });
    console.log(JSON.stringify(r));
    expect(r.sequences).toBeGreaterThan(1000);
    expect(r.validationMAE).toBeLessThan(r.naiveMAE * 0.8);
  });

  it('classify-bigru: the bidirectional GRU classifies the shapes far above chance', async () => {
    const { classifyShapes } = await load('classify-bigru.mjs');
    const r = await classifyShapes({ quick: true, lib, data });
    console.log(JSON.stringify(r));
    expect(r.chance).toBeCloseTo(1 / 3);
    expect(r.testAccuracy).toBeGreaterThan(0.7);
    expect(r.validationAccuracy).toBeGreaterThan(0.7);
  });

  it('char-generate: validation perplexity falls and the model writes text', async () => {
    const { trainCharModel } = await load('char-generate.mjs');
    const r = await trainCharModel({ quick: true, lib, data, tasks });
    console.log(JSON.stringify(r));
    expect(r.lastEpochLoss).toBeLessThan(r.firstEpochLoss);
    expect(r.validationPerplexity).toBeLessThan(r.validationPerplexityBefore / 2);
    expect(r.sample.length).toBe('A recurrent network '.length + 160);
  });

  it('each script runs from the command line with --quick and ends with its JSON summary', async () => {
    if (!existsSync(fileURLToPath(new URL('../../dist/node/index.js', import.meta.url))))
      throw new Error('dist/ is missing: run `npm run build` first (this test runs the examples as scripts)');
    for (const name of ['forecast-csv', 'classify-bigru', 'char-generate']) {
      const { stdout } = await run(process.execPath, [pathOf(`${name}.mjs`), '--quick'], { timeout: 60_000 });
      const lines = stdout.trim().split('\n');
      expect(lines.length).toBeGreaterThan(3); // a line per epoch, then the summaries
      const summary = JSON.parse(lines[lines.length - 1]);
      expect(summary.example).toBe(name);
      expect(summary.epochs).toBeGreaterThan(0);
    }
  }, 60_000);
});
