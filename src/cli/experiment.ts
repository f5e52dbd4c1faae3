// `unrolled experiment NAME`: one of BPTT's classic claims reproduced, seeded, with a figure
// (SVG drawn by Vega-Lite, and its spec) and a Markdown report written under docs/experiments/NAME.
import { join } from 'node:path';
import { ChartingUnavailableError } from '../experiments/chart.js';
import { EXPERIMENTS, runExperiment } from '../experiments/registry.js';
import { commandFlags, EnvironmentError } from './args.js';
import { flagHelp } from './flags.js';
import type { CliIO } from './output.js';
import { nearestKey } from '../validate/index.js';

const NAMES = Object.keys(EXPERIMENTS);
/** Old names still accepted (scripts and the general help may use them). */
const ALIASES: Readonly<Record<string, string>> = { 'es-vs-bptt': 'bptt-vs-rtrl-vs-es' };
const WIDTH = Math.max(12, ...NAMES.map((n) => n.length));

export const EXPERIMENT_HELP = `Usage: unrolled experiment NAME [options]

Runs one experiment on one thread of the reproducible Wasm core and writes its figure
(figure.svg, drawn by Vega-Lite from figure.vl.json, which is written too) and report
(report.md: the command, the machine, the settings and the numbers) to --out. The same seed
gives the same numbers; only the timings change. Needs the packages vega and vega-lite
(npm install vega@^6.4.0 vega-lite@~6.4.3).

Experiments:
${NAMES.map((n) => `  ${n.padEnd(WIDTH)} ${EXPERIMENTS[n].summary}${EXPERIMENTS[n].steps ? `\n  ${' '.repeat(WIDTH)} --steps: ${EXPERIMENTS[n].steps}` : ''}`).join('\n')}
${Object.entries(ALIASES)
  .map(([old, now]) => `  ${old.padEnd(WIDTH)} the former name of ${now}`)
  .join('\n')}

${flagHelp('experiment')}
`;

/** The command line as one would type it again (arguments with spaces or quotes quoted). */
function shellLine(args: string[]): string {
  return ['unrolled', 'experiment', ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export async function experimentCommand(args: string[], io: CliIO): Promise<number> {
  const f = commandFlags('experiment', args, io, EXPERIMENT_HELP, 1);
  if (!f) return 0;
  const given = f.p.positionals[0];
  const name = given !== undefined && Object.hasOwn(ALIASES, given) ? ALIASES[given] : given;
  if (name === undefined) f.fail(`which experiment? (one of ${NAMES.join(', ')}; see unrolled experiment --help)`);
  if (!NAMES.includes(name)) {
    const near = nearestKey(name, NAMES);
    f.fail(`unknown experiment ${JSON.stringify(name)} (${near ? `did you mean ${near}? ` : ''}experiments: ${NAMES.join(', ')})`);
  }
  const steps = f.has('steps') ? f.int('steps') : undefined;
  if (steps !== undefined && !EXPERIMENTS[name].steps) f.fail(`--steps: the ${name} experiment has no step budget`, '--steps');
  const quick = f.bool('quick');
  const out = f.file('out') ?? join('docs', 'experiments', name);
  io.out(`unrolled experiment ${name}${quick ? ' (quick)' : ''}: writing ${out}`);
  const r = await runExperiment(name, { quick, seed: f.int('seed'), out, steps, command: shellLine(args), log: (l) => io.out(l) }).catch(
    (e: unknown) => {
      // an optional package that is not installed: the environment's failure, found before any training
      throw e instanceof ChartingUnavailableError ? new EnvironmentError(e.message) : e;
    },
  );
  io.out(`wrote ${r.report}, ${r.figure} and ${r.spec} (${(r.ms / 1000).toFixed(1)} s)`);
  return 0;
}
