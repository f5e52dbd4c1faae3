// Largest relative error against the PyTorch fixtures (test/fixtures/torch), per cell and backend:
// outputs, final states, loss and every gradient. Error per tensor: max|a − b| / max(max|b|, 1e-3).
//   npm run build && node scripts/torch-agreement.mjs
import { readFileSync, readdirSync } from 'node:fs';
import { createModel, loadCore } from '../dist/node/index.js';

const dir = new URL('../test/fixtures/torch/', import.meta.url);
const names = readdirSync(dir).filter((f) => f.endsWith('.json'));
const rel = (a, b) => {
  let d = 0,
    s = 1e-3;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / s;
};
const worst = {};
for (const backend of ['wasm', 'js']) {
  const core = backend === 'wasm' ? await loadCore({ variant: 'simd' }) : undefined;
  for (const file of names) {
    const fx = JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
    const c = fx.config;
    const model = await createModel({ ...c, backend, core });
    model.loadStateDict(fx.params);
    const r = model.lossAndGradients(
      { x: fx.x, y: fx.y, T: c.T, B: c.B, h0: fx.h0, c0: fx.c0 ?? undefined, lengths: fx.lengths ?? undefined },
      { loss: c.loss, at: c.at, reduction: c.reduction },
    );
    let g = 0;
    for (const [n, ref] of Object.entries(fx.grads)) g = Math.max(g, rel(n === 'h0' ? r.dh0 : n === 'c0' ? r.dc0 : r.grads[n], ref));
    const key = `${c.cell}${c.cell === 'rnn' ? `-${c.nonlinearity}` : ''} ${backend}`;
    worst[key] ??= { fixtures: 0, grad: 0, hN: 0, loss: 0 };
    const w = worst[key];
    w.fixtures++;
    w.grad = Math.max(w.grad, g);
    w.hN = Math.max(w.hN, rel(r.hN, fx.hN));
    w.loss = Math.max(w.loss, Math.abs(r.loss - fx.loss) / Math.max(Math.abs(fx.loss), 1e-3));
    model.dispose();
  }
}
console.log('| cell | backend | fixtures | max gradient error | max h_N error | max loss error |');
console.log('|---|---|---|---|---|---|');
for (const [k, w] of Object.entries(worst)) {
  const [cell, backend] = k.split(' ');
  console.log(
    `| ${cell} | ${backend} | ${w.fixtures} | ${w.grad.toExponential(2)} | ${w.hN.toExponential(2)} | ${w.loss.toExponential(2)} |`,
  );
}
