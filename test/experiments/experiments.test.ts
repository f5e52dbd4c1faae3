// Every experiment's quick version, run into a temporary directory: the figure is a real Vega
// rendering of its Vega-Lite spec (one line per series in each panel, the axis titles, the
// legend), the report has the command, the machine and a table, and where the quick version is
// long enough to be reliable, the numbers point the way the claim says. Each qualitative check is
// a predicate that is also shown to be false on a case where the claim does not hold, so that it
// cannot pass by being vacuous.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ChartingUnavailableError, loadCharting, logTicks, specJson, textWidth, vegaLiteSpec } from '../../src/experiments/chart.js';
import type { Figure } from '../../src/experiments/figure.js';
import { EXPERIMENTS, runExperiment } from '../../src/experiments/registry.js';
import { run, tempDir } from '../cli/helpers.js';

const tmp = tempDir('unrolled-experiments-');
afterAll(() => tmp.remove());

interface Node {
  name: string;
  attrs: Record<string, string>;
  children: Node[];
  text: string;
}

/** A minimal XML parse: one root <svg>, every tag closed in order, attributes quoted, entities known. */
function parseSvg(text: string): Node {
  const body = text.replace(/^<\?xml[^?]*\?>\s*/, '').trimEnd();
  expect(body.startsWith('<svg ')).toBe(true);
  const root: Node = { name: '#document', attrs: {}, children: [], text: '' };
  const stack: Node[] = [root];
  const re = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/g;
  let consumed = 0;
  for (const m of body.matchAll(re)) {
    expect(m.index, `unparsed text at ${consumed}: ${body.slice(consumed, consumed + 40)}`).toBe(consumed);
    consumed += m[0].length;
    const top = stack[stack.length - 1];
    if (m[5] !== undefined) {
      if (m[5].trim()) {
        expect(stack.length, 'text outside the root').toBeGreaterThan(1);
        expect(m[5]).not.toMatch(/&(?!amp;|lt;|gt;|quot;|#\d+;)/);
        top.text += m[5];
      }
      continue;
    }
    const [, close, name, rawAttrs, selfClose] = m;
    if (close) {
      expect(stack.pop()?.name, `</${name}>`).toBe(name);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of rawAttrs.matchAll(/([\w:-]+)="([^"]*)"/g)) attrs[a[1]] = a[2];
    const node: Node = { name, attrs, children: [], text: '' };
    top.children.push(node);
    if (!selfClose) stack.push(node);
  }
  expect(consumed).toBe(body.length);
  expect(stack).toHaveLength(1);
  expect(root.children.map((c) => c.name)).toEqual(['svg']);
  return root.children[0];
}

/** Every node below `n` (depth first). */
function all(n: Node): Node[] {
  return n.children.flatMap((c) => [c, ...all(c)]);
}
const hasClass = (n: Node, c: string): boolean => (n.attrs.class ?? '').split(' ').includes(c);
const xmlText = (s: string): string =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#(\d+);/g, (_, d) => String.fromCharCode(+d))
    .replace(/&amp;/g, '&');
/** The texts of the <text> elements of the mark groups with class `role` below `n`. */
const texts = (n: Node, role: string): string[] =>
  all(n)
    .filter((g) => g.name === 'g' && hasClass(g, role))
    .flatMap((g) => all(g).filter((t) => t.name === 'text'))
    .map((t) => xmlText(t.text));

interface PanelSpec {
  title: string;
  layer: [{ data: { values: { series: string }[] }; encoding: { x: { title: string }; y: { title: string } } }, ...unknown[]];
}

/**
 * The written figure.svg is Vega's rendering of the written figure.vl.json: per panel, one line
 * (a path with at least two points) per series, named by the series; the panel's title and its
 * two axis titles; every series in a legend. Returns the panels' series labels.
 */
function checkFigure(dir: string, seriesCount: number, panels: number): string[][] {
  const spec = JSON.parse(readFileSync(join(dir, 'figure.vl.json'), 'utf8')) as { concat: PanelSpec[] };
  expect(spec.concat).toHaveLength(panels);
  const svg = parseSvg(readFileSync(join(dir, 'figure.svg'), 'utf8'));
  const labels = spec.concat.map((p) => p.layer[0].data.values.map((v) => v.series));
  expect(labels.flat()).toHaveLength(seriesCount);
  const legends = texts(svg, 'role-legend-label');
  spec.concat.forEach((p, i) => {
    const groups = all(svg).filter((g) => g.name === 'g' && hasClass(g, `concat_${i}_group`));
    expect(groups, `panel ${i}`).toHaveLength(1);
    const lines = all(groups[0]).filter((g) => g.name === 'g' && hasClass(g, 'mark-line') && hasClass(g, `concat_${i}_layer_0_marks`));
    const paths = lines.map((g) => g.children.filter((c) => c.name === 'path'));
    for (const ps of paths) expect(ps).toHaveLength(1);
    const named = paths.map((ps) => xmlText(ps[0].attrs['aria-label'] ?? '').match(/; series: (.*)$/)?.[1]);
    expect(named.sort(), `panel ${i}: one line per series`).toEqual([...labels[i]].sort());
    for (const ps of paths) expect(ps[0].attrs.d).toMatch(/^M[\d.e-]+,[\d.e-]+L/); // a line, not a dot
    expect(texts(groups[0], 'role-axis-title').sort()).toEqual([p.layer[0].encoding.x.title, p.layer[0].encoding.y.title].sort());
    expect(texts(svg, 'role-title-text')).toContain(p.title);
    for (const l of labels[i]) expect(legends, `legend of ${l}`).toContain(l);
  });
  return labels;
}

function checkReport(dir: string, name: string, header: string, rows: number): string {
  const md = readFileSync(join(dir, 'report.md'), 'utf8');
  expect(md).toContain(`# Experiment: ${name} (quick version)`);
  expect(md).toContain(`unrolled experiment ${name} --quick`);
  expect(md).toContain(`- node: ${process.version}`);
  expect(md).toMatch(/- core: wasm-(simd|scalar), 1 thread/);
  const lines = md.split('\n');
  const h = lines.findIndex((l) => l.startsWith(`| ${header} |`));
  expect(h, `a table headed "${header}"`).toBeGreaterThan(0);
  expect(lines[h + 1]).toMatch(/^\|(---\|)+$/);
  let n = 0;
  while (lines[h + 2 + n]?.startsWith('| ')) n++;
  expect(n).toBe(rows);
  return md;
}

const quick = (name: string) => {
  const out = tmp.path(name);
  return runExperiment(name, {
    quick: true,
    seed: 1,
    out,
    command: `unrolled experiment ${name} --quick --out ${out}`,
    log: () => {},
  }).then((r) => ({ ...r, out }));
};

/** "Vanishes much faster": a ratio ‖∂E/∂h_1‖/‖∂E/∂h_T‖ at least ten times smaller. */
const vanishesFaster = (a: number, b: number): boolean => a < b / 10;
/** "Learnt": recall accuracy near 1; "not learnt": within chance (1/4) + 0.15. */
const learnt = (acc: number): boolean => acc > 0.9;
const atChance = (acc: number): boolean => acc < 0.4;
/** "The same training losses": at most 1e-4 apart, relatively, over the first steps. */
const sameLosses = (relDiff: number): boolean => relDiff < 1e-4;
/** "Sooner": fewer milliseconds to the target (never reaching it is Infinity). */
const soonerThan = (a: number, b: number): boolean => a < b;
/** "Grows faster with H": the ratio of costs is larger at the largest H than at the smallest. */
const growsFaster = (smallest: number, largest: number): boolean => largest > smallest;

describe('experiments (quick versions)', () => {
  it('are the five of the issue', () => {
    expect(Object.keys(EXPERIMENTS).sort()).toEqual(['adding', 'bptt-vs-rtrl-vs-es', 'exploding', 'truncation', 'vanishing']);
  });

  it('vanishing: the tanh RNN loses the gradient much faster than the LSTM at init; the IRNN keeps it', async () => {
    const r = await quick('vanishing');
    checkFigure(r.out, 8, 2);
    checkReport(r.out, 'vanishing', 'network', 4);
    const n = r.numbers;
    expect(n.ratio_init_tanh).toBeLessThan(1e-6);
    expect(vanishesFaster(n.ratio_init_tanh, n.ratio_init_lstm)).toBe(true);
    expect(vanishesFaster(n.ratio_init_tanh, n.ratio_init_gru)).toBe(true);
    expect(vanishesFaster(n.ratio_init_irnn, n.ratio_init_lstm)).toBe(false); // the predicate can fail
    expect(n.ratio_init_irnn).toBeGreaterThan(0.1);
  });

  it('exploding: without clipping the loss blows up; global-norm and value clipping keep it near the baseline', async () => {
    const r = await quick('exploding');
    const hidden = r.numbers.hidden_available === 1;
    checkFigure(r.out, hidden ? 8 : 6, 2);
    const md = checkReport(r.out, 'exploding', 'clipping', 4);
    if (!hidden) expect(md).toContain('not available in this build');
    const n = r.numbers;
    const blewUp = (k: string): boolean => n[`skipped_${k}`] > 0 || !(n[`tail_${k}`] < 10);
    expect(blewUp('none')).toBe(true);
    expect(blewUp('norm')).toBe(false);
    expect(blewUp('value')).toBe(false);
    if (hidden) expect(blewUp('hidden')).toBe(false);
    expect(n.tail_norm).toBeLessThan(0.5);
    expect(n.tail_value).toBeLessThan(0.5);
  });

  it('truncation: a window shorter than the dependency stays at chance, a window that spans it learns', async () => {
    const r = await quick('truncation');
    checkFigure(r.out, 10, 2);
    checkReport(r.out, 'truncation', 'training', 5);
    const n = r.numbers;
    expect(n.dependency).toBeGreaterThanOrEqual(9);
    for (const k2 of [3, 6, 9]) {
      expect(atChance(n[`acc_k2_${k2}`]), `k2 ${k2}`).toBe(true);
      expect(learnt(n[`acc_k2_${k2}`])).toBe(false);
    }
    expect(learnt(n.acc_k2_12)).toBe(true);
    expect(atChance(n.acc_k2_12)).toBe(false);
  });

  it('adding: a row and a curve per cell and length', async () => {
    const r = await quick('adding');
    checkFigure(r.out, 12, 3);
    const md = checkReport(r.out, 'adding', 'network', 12);
    expect(md).toContain('test MSE below 0.01');
    for (const k of ['tanh', 'irnn', 'lstm', 'gru'])
      for (const T of [10, 20, 40]) expect(Number.isFinite(r.numbers[`mse_${k}_${T}`])).toBe(true);
  });

  it('bptt-vs-rtrl-vs-es: RTRL follows BPTT step by step; BPTT beats ES in wall time; RTRL costs grow faster with H', async () => {
    const r = await quick('bptt-vs-rtrl-vs-es');
    checkFigure(r.out, 10, 3);
    const md = checkReport(r.out, 'bptt-vs-rtrl-vs-es', 'method', 3);
    expect(md).toMatch(/^\| H \| parameters \|/m);
    const n = r.numbers;
    // RTRL equals BPTT: the same gradient under the same update gives the same losses, up to
    // float32 (BPTT) against float64 (RTRL); ES follows another path from the same weights
    expect(sameLosses(n.rtrl_bptt_rel_diff)).toBe(true);
    expect(sameLosses(n.es_bptt_rel_diff)).toBe(false);
    expect(n.es_final).toBeLessThan(n.initial); // ES does learn: the comparison is not against a broken baseline
    expect(Number.isFinite(n.bptt_ms_to_target)).toBe(true);
    expect(soonerThan(n.bptt_ms_to_target, n.es_ms_to_target)).toBe(true);
    expect(soonerThan(n.es_ms_to_target, n.bptt_ms_to_target)).toBe(false);
    expect(growsFaster(n.ratio_rtrl_smallest, n.ratio_rtrl_largest)).toBe(true);
    expect(growsFaster(n.ratio_rtrl_largest, n.ratio_rtrl_smallest)).toBe(false);
  });

  it('es-vs-bptt is still accepted on the command line, as the former name', async () => {
    const out = tmp.path('alias');
    const r = await run(['experiment', 'es-vs-bptt', '--quick', '--steps', '3', '--out', out]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('# Experiment: bptt-vs-rtrl-vs-es (quick version)');
  });

  it('the same seed gives the same numbers (timings aside)', async () => {
    const a = await runExperiment('exploding', { quick: true, seed: 5, out: tmp.path('seed-a'), command: 'x', log: () => {} });
    const b = await runExperiment('exploding', { quick: true, seed: 5, out: tmp.path('seed-b'), command: 'x', log: () => {} });
    expect(a.numbers).toEqual(b.numbers);
    const strip = (p: string) => readFileSync(p, 'utf8');
    expect(strip(a.figure)).toBe(strip(b.figure));
  });
});

describe('unrolled experiment', () => {
  it('runs one by name and writes report.md, figure.svg and figure.vl.json to --out', async () => {
    const out = tmp.path('cli');
    const r = await run(['experiment', 'exploding', '--quick', '--seed', '2', '--steps', '20', '--out', out]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    for (const f of ['report.md', 'figure.svg', 'figure.vl.json']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(r.out.join('\n')).toContain(join(out, 'figure.vl.json'));
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain(`unrolled experiment exploding --quick --seed 2 --steps 20 --out ${out}`);
    expect(md).toContain('- steps: 20');
  });

  it('lists the experiments in its help', async () => {
    const r = await run(['experiment', '--help']);
    expect(r.code).toBe(0);
    const text = r.out.join('\n');
    expect(text).toMatch(/^Usage: unrolled experiment NAME/);
    for (const name of Object.keys(EXPERIMENTS)) expect(text).toContain(`  ${name} `);
    for (const flag of ['--quick', '--out', '--seed', '--steps']) expect(text).toContain(flag);
    expect((await run(['help'])).out.join('\n')).toContain('unrolled experiment NAME');
  });

  it('refuses a missing or unknown name and a step budget where there is none, with one line', async () => {
    for (const [argv, message] of [
      [['experiment'], /which experiment\? \(one of vanishing, exploding/],
      [['experiment', 'vanishng'], /unknown experiment "vanishng" \(did you mean vanishing\?/],
      [['experiment', 'adding', 'extra'], /unexpected argument extra/],
      [['experiment', 'adding', '--steps', '0'], /--steps: expected/],
      [['experiment', 'adding', '--out', ''], /--out needs a file name/],
    ] as [string[], RegExp][]) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err.join('\n')).toMatch(message);
      expect(r.err).toHaveLength(1);
    }
  });
});

describe('chart', () => {
  const figure = (series: Figure['panels'][number]['series'], logY = true): Figure => ({
    title: 'a < b & "c"',
    panels: [{ title: 'panel', xLabel: 'x', yLabel: 'y', logY, series, hLines: [{ y: 0.5, label: 'half' }] }],
  });

  it('log ticks: powers of ten, thinned to at most 7 over many decades, with 2 and 5 over two or fewer', () => {
    expect(logTicks([1e-25, 0.5])).toEqual([1e-28, 1e-24, 1e-20, 1e-16, 1e-12, 1e-8, 1e-4, 1]);
    expect(logTicks([0.03, 0.4])).toEqual([0.02, 0.05, 0.1, 0.2, 0.5]);
    expect(logTicks([4, 32])).toEqual([2, 5, 10, 20, 50]);
    expect(logTicks([2, 10])).toEqual([2, 5, 10]);
    expect(logTicks([])).toEqual([]);
  });

  it('spec: log scale where asked, a missing value (NaN, or ≤ 0 on a log axis) as null, one colour per label in every panel', () => {
    const f = figure([
      {
        label: 'a',
        points: [
          [1, 1],
          [2, NaN],
          [3, 0],
          [4, 0.1234567],
        ],
      },
      {
        label: 'b',
        color: '#123456',
        dashed: true,
        points: [
          [1, 2],
          [2, 3],
        ],
      },
    ]);
    f.panels.push({ ...f.panels[0], title: 'again', logY: false });
    const spec = JSON.parse(specJson(vegaLiteSpec(f)));
    const [p0, p1] = spec.concat;
    expect(p0.layer[0].data.values[0]).toEqual({ series: 'a', x: [1, 2, 3, 4], y: [1, null, null, 0.12346] });
    expect(p1.layer[0].data.values[0].y).toEqual([1, null, 0, 0.12346]);
    expect(p0.layer[0].encoding.y.scale.type).toBe('log');
    expect(p1.layer[0].encoding.y.scale.type).toBe('linear');
    expect(p0.layer[0].encoding.color.scale).toEqual({ domain: ['a', 'b'], range: ['#0072B2', '#123456'] });
    expect(p0.layer[0].encoding.strokeDash.scale.range).toEqual([
      [1, 0],
      [6, 4],
    ]);
    expect(p0.layer[1].data.values).toEqual([{ y: 0.5, label: 'half' }]);
    expect(spec.resolve).toBeUndefined(); // the same series in both panels: one legend
  });

  it('renders: a line broken at a missing value, a rule with its label, text escaped', async () => {
    const charting = await loadCharting();
    const text = await charting.render(
      vegaLiteSpec(
        figure([
          {
            label: '"q" < 1',
            points: [
              [1, 1],
              [2, 10],
              [3, NaN],
              [4, 0],
              [5, 100],
              [6, 1000],
            ],
          },
        ]),
      ),
    );
    const svg = parseSvg(text);
    const path = all(svg).find((n) => n.name === 'path' && (n.attrs['aria-roledescription'] ?? '') === 'line mark');
    expect(path?.attrs.d.match(/M/g)).toHaveLength(2);
    expect(path?.attrs.d.match(/L/g)).toHaveLength(2);
    expect(texts(svg, 'role-legend-label')).toEqual(['"q" < 1']);
    expect(texts(svg, 'role-title-text')).toContain('a < b & "c"');
    expect(
      all(svg)
        .filter((n) => n.name === 'text')
        .map((n) => n.text),
    ).toContain('half');
    // the same spec gives the same bytes (clip-path ids do not count up from one figure to the next)
    const twice = vegaLiteSpec(
      figure([
        {
          label: 'q',
          points: [
            [1, 1],
            [2, 2],
          ],
        },
      ]),
    );
    expect(await charting.render(twice)).toBe(await charting.render(twice));
  });

  it('a missing vega or vega-lite is one clear error; any other import failure is passed on', async () => {
    const missing = (name: string) =>
      Promise.reject(Object.assign(new Error(`Cannot find package '${name}'`), { code: 'ERR_MODULE_NOT_FOUND' }));
    await expect(loadCharting(missing)).rejects.toThrow(ChartingUnavailableError);
    await expect(loadCharting((n) => (n === 'vega' ? import('vega') : missing(n)))).rejects.toThrow(
      /vega-lite is not installed: run `npm install vega@\^6\.4\.0 vega-lite@~6\.4\.3`/,
    );
    const broken = new SyntaxError('broken');
    await expect(loadCharting(() => Promise.reject(broken))).rejects.toBe(broken);
  });

  it('text widths: narrow letters narrower than wide ones, in proportion to the font size', () => {
    expect(textWidth('iiii', 10)).toBeLessThan(textWidth('mmmm', 10));
    expect(Math.abs(textWidth('step t', 24) - 2 * textWidth('step t', 12))).toBeLessThanOrEqual(1);
  });
});
