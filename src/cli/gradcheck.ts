// `unrolled gradcheck`: the analytic gradients of a configuration (on the js backend in float64)
// against central finite differences, on a small batch of its task.
import { TokenStream } from '../data/stream.js';
import type { Batch } from '../model/batch.js';
import { resolveLoss } from '../model/loss.js';
import { Rng } from '../model/rng.js';
import { commandFlags } from './args.js';
import { modelFor, runConfigFromFlags } from './config.js';
import { flagHelp } from './flags.js';
import { Reporter, sci, type CliIO } from './output.js';
import { batchMaker, dataSeed, lossOf, MIN_SEQ, type TaskName } from './tasks.js';

export const GRADCHECK_HELP = `Usage: unrolled gradcheck [options]

Checks the gradients of a configuration: backpropagation through time on the js backend in
float64 against central finite differences (f(w + eps) - f(w - eps)) / 2 eps, on a small batch
of the task, for a sample of the elements of every parameter (always including the one with the
largest gradient). Prints the largest relative error per parameter (|analytic - numeric| over the
largest |gradient| of that parameter, at least 1e-3) and PASS or FAIL; exits 1 on FAIL.

${flagHelp('gradcheck')}

A relu RNN is not differentiable where a pre-activation is 0: a finite difference across such a
kink can fail although backpropagation is right.
`;

export async function gradcheckCommand(args: string[], io: CliIO): Promise<number> {
  const f = commandFlags('gradcheck', args, io, GRADCHECK_HELP);
  if (!f) return 0;
  const task = f.choice<TaskName>('task');
  const T = f.int('seq', task === 'reber' ? 9 : 5, { min: MIN_SEQ[task] });
  const B = f.int('batch');
  const samples = f.int('samples');
  const eps = f.float('eps');
  const tolerance = f.float('tolerance');
  const { run, data } = await runConfigFromFlags(f, 1);
  run.seq = T;
  run.batch = B;
  run.tbptt = null;
  const reporter = new Reporter(io, f.bool('json'));

  // the batch
  let batch: Batch;
  if (data) {
    if (data.ids.length < T * B + 1) f.fail(`the text has ${data.ids.length} characters, too few for --batch ${B} x --seq ${T}`);
    const chunk = new TokenStream(data.ids, { T, B, vocabSize: data.vocab.size }).next();
    batch = { x: chunk.x.slice(), y: chunk.y.slice(), T, B };
  } else {
    batch = batchMaker(run, B, T)(new Rng(dataSeed(run.seed)));
  }
  const loss = resolveLoss(lossOf(run.task));
  const model = await modelFor(run, undefined, { backend: 'js', dtype: 'float64' });
  try {
    const g = model.lossAndGradients(batch, loss);
    reporter.emit(
      {
        type: 'gradcheck-header',
        task: run.task,
        cell: run.cell,
        hidden: run.hidden,
        layers: run.layers,
        T: batch.T,
        B,
        loss: g.loss,
        eps,
        tolerance,
        samples,
      },
      `unrolled gradcheck: ${run.task}, ${run.cell}${run.cell === 'rnn' ? ` ${run.nonlinearity}` : ''} ${run.layers} x ${run.hidden}, T=${batch.T} B=${B}, js float64, eps ${eps}, tolerance ${tolerance}`,
    );
    const rng = new Rng((run.seed ^ 0x1b873593) >>> 0);
    let pass = true,
      worst = 0;
    const width = Math.max(...model.parameterNames().map((n) => n.length));
    for (const name of model.parameterNames()) {
      const analytic = g.grads[name];
      const values = model.getParameter(name);
      const n = values.length;
      let best = 0,
        scale = 1e-3;
      for (let i = 0; i < n; i++) {
        const a = Math.abs(analytic[i]);
        if (a > Math.abs(analytic[best])) best = i;
        scale = Math.max(scale, a);
      }
      const picks = new Set<number>([best]);
      const want = samples === 0 ? n : Math.min(n, samples);
      if (want === n) for (let i = 0; i < n; i++) picks.add(i);
      while (picks.size < want) picks.add(rng.int(n));
      let maxAbs = 0;
      for (const i of picks) {
        const v = values[i];
        values[i] = v + eps;
        model.setParameter(name, values);
        const up = model.lossAndGradients(batch, loss).loss;
        values[i] = v - eps;
        model.setParameter(name, values);
        const down = model.lossAndGradients(batch, loss).loss;
        values[i] = v;
        model.setParameter(name, values);
        maxAbs = Math.max(maxAbs, Math.abs((up - down) / (2 * eps) - analytic[i]));
      }
      const rel = maxAbs / scale;
      const ok = rel <= tolerance;
      pass &&= ok;
      worst = Math.max(worst, rel);
      reporter.emit(
        {
          type: 'gradcheck',
          parameter: name,
          shape: model.parameterShape(name),
          checked: picks.size,
          maxAbsError: maxAbs,
          maxRelError: rel,
          pass: ok,
        },
        `  ${name.padEnd(width)}  [${model.parameterShape(name).join(', ')}]`.padEnd(width + 20) +
          `  ${String(picks.size).padStart(5)} checked  max rel error ${sci(rel)}  ${ok ? 'PASS' : 'FAIL'}`,
      );
    }
    reporter.emit(
      { type: 'result', pass, maxRelError: worst, tolerance },
      pass
        ? `PASS: every gradient agrees with finite differences (worst ${sci(worst)} <= ${tolerance})`
        : `FAIL: the worst relative error ${sci(worst)} exceeds ${tolerance}`,
    );
    return pass ? 0 : 1;
  } finally {
    model.dispose();
  }
}
