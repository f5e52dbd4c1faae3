// `unrolled bench`: one quick timing of a training step of the given configuration, on the Wasm
// core and on the js reference.
import { commandFlags } from './args.js';
import { buildFresh, coreFor, engineName, runConfigFromFlags } from './config.js';
import { flagHelp } from './flags.js';
import { Reporter, type CliIO } from './output.js';
import { makeSource, taskText } from './tasks.js';

export const BENCH_HELP = `Usage: unrolled bench [options]

Times a training step (forward, loss, BPTT, clipping, update) of the configuration the flags
describe, as unrolled train would run it, and prints milliseconds per step on the Wasm core and
on the js reference backend. One warm-up step, then steps until --time has passed.

${flagHelp('bench')}
`;

export async function benchCommand(args: string[], io: CliIO): Promise<number> {
  const f = commandFlags('bench', args, io, BENCH_HELP);
  if (!f) return 0;
  const list = (f.str('backends') ?? 'wasm,js').split(',').map((s) => s.trim());
  for (const b of list)
    if (b !== 'wasm' && b !== 'js')
      f.fail(`--backends: expected a list of wasm and js, got ${JSON.stringify(f.str('backends'))}`, '--backends');
  const backends = [...new Set(list)] as ('wasm' | 'js')[];
  const budget = f.int('time');
  const maxSteps = f.int('max-steps');
  const { run, data } = await runConfigFromFlags(f, 1);
  makeSource('bench', run, data); // checks the data fits the batch before anything is timed
  const reporter = new Reporter(io, f.bool('json'));
  reporter.emit(
    { type: 'bench-header', task: run.task, cell: run.cell, hidden: run.hidden, layers: run.layers, batch: run.batch, seq: run.seq },
    `unrolled bench: ${taskText(run, data?.ids.length)}; ${run.cell} ${run.layers} x ${run.hidden}, batch ${run.batch} x ${run.seq}, ${run.optimizer}`,
  );
  for (const backend of backends) {
    const core = await coreFor(backend, f.bool('relaxed'));
    const { model, trainer } = await buildFresh(run, core, { backend });
    try {
      const source = makeSource('bench', run, data);
      source.next(trainer, false); // warm-up: compiles, allocates the work arena
      let n = 0;
      const t0 = performance.now();
      let t = t0;
      while (n < maxSteps && (n === 0 || t - t0 < budget)) {
        source.next(trainer, false);
        n++;
        t = performance.now();
      }
      const ms = (t - t0) / n;
      const engine = engineName(backend, core);
      reporter.emit(
        { type: 'bench', backend, engine, msPerStep: ms, steps: n, parameters: model.numParameters },
        `  ${engine.padEnd(12)} ${ms < 10 ? ms.toFixed(3) : ms.toFixed(1)} ms/step  (${(1000 / ms).toFixed(1)} steps/s, ${n} timed step${n === 1 ? '' : 's'})`,
      );
    } finally {
      trainer.dispose();
      model.dispose();
    }
  }
  return 0;
}
