// An experiment's Figure drawn by Vega-Lite: the description becomes a Vega-Lite spec (one
// layered line chart per panel, concatenated, one legend for the figure), which Vega compiles
// and renders to SVG in Node with its headless 'none' renderer. The spec is written next to the
// figure so that a reader can re-render or restyle it (e.g. in the Vega editor).
//
// vega and vega-lite are optional peer dependencies: only `unrolled experiment` needs them, so
// they are imported on first use, and their absence is one clear error before any training.
import type { TopLevelSpec } from 'vega-lite';
import type { Figure, Panel } from './figure.js';
import { PALETTE } from './figure.js';

/** Raised when vega or vega-lite cannot be imported. */
export class ChartingUnavailableError extends Error {
  constructor(missing: string) {
    super(
      `the experiments draw their figures with Vega-Lite, and ${missing} is not installed: run \`npm install vega@^6.4.0 vega-lite@~6.4.3\` next to unrolled`,
    );
    this.name = 'ChartingUnavailableError';
  }
}

const FONT = 'Helvetica, Arial, sans-serif';
const GRID = '#e4e4e4';
const REFERENCE = '#6f6f6f';
const DASH = [6, 4];
/** Significant digits of the data written into the spec: far finer than a pixel. */
const DIGITS = 5;
/** At most this many labelled powers of ten on a log axis. */
const LOG_LABELS = 7;
const LEGEND_FONT = 12;
const COLUMN_PADDING = 18;

/** A value as it goes into the spec: null where the line breaks (not finite, or ≤ 0 on a log axis). */
function datum(v: number, log: boolean): number | null {
  return Number.isFinite(v) && (!log || v > 0) ? Number(v.toPrecision(DIGITS)) : null;
}

interface Looks {
  labels: string[];
  colors: string[];
  dashed: boolean[];
}

/** One colour and dash per label, for the whole figure: a series keeps its look across panels. */
function looks(fig: Figure): Looks {
  const labels: string[] = [],
    colors: (string | undefined)[] = [],
    dashed: boolean[] = [];
  for (const s of fig.panels.flatMap((p) => p.series)) {
    const i = labels.indexOf(s.label);
    if (i < 0) {
      labels.push(s.label);
      colors.push(s.color);
      dashed.push(s.dashed === true);
    } else colors[i] ??= s.color;
  }
  const unused = PALETTE.filter((c) => !colors.includes(c));
  return { labels, colors: colors.map((c, i) => c ?? unused.shift() ?? PALETTE[i % PALETTE.length]), dashed };
}

/** The looks of the labels in `labels` only, in that order. */
function subset(all: Looks, labels: string[]): Looks {
  const at = labels.map((l) => all.labels.indexOf(l));
  return { labels, colors: at.map((i) => all.colors[i]), dashed: at.map((i) => all.dashed[i]) };
}

/**
 * A text's width in pixels, for Vega's layout. Without a canvas Vega guesses 0.8 em per
 * character, which spreads legends and titles far wider than any sans-serif font draws them.
 */
export function textWidth(text: string, fontSize: number): number {
  let em = 0;
  for (const ch of text) {
    if (/[ijlft.,:;'|!()[\] ]/.test(ch)) em += 0.3;
    else if (/[mwMW@%]/.test(ch)) em += 0.85;
    else if (/[A-Z]/.test(ch)) em += 0.68;
    else em += 0.57;
  }
  return Math.ceil(em * fontSize);
}

/** The finite values an axis shows (positive ones on a log axis). */
function shown(values: number[], log: boolean): number[] {
  return values.filter((v) => Number.isFinite(v) && (!log || v > 0));
}

/**
 * Log-axis ticks spanning the values: powers of ten, every k-th one so that at most LOG_LABELS
 * are labelled; over two decades or less, 2 and 5 times them as well, trimmed to the values.
 */
export function logTicks(values: number[]): number[] {
  if (values.length === 0) return [];
  let lo = Math.floor(Math.log10(Math.min(...values))),
    hi = Math.ceil(Math.log10(Math.max(...values)));
  if (hi === lo) hi++;
  if (hi - lo <= 2) {
    const all: number[] = [];
    for (let e = lo; e <= hi; e++) for (const m of e < hi ? [1, 2, 5] : [1]) all.push(Number(`${m}e${e}`));
    // from the last tick at or below the smallest value to the first at or above the largest
    const min = Math.min(...values),
      max = Math.max(...values);
    return all.slice(all.filter((t) => t <= min).length - 1, all.findIndex((t) => t >= max) + 1);
  }
  const every = Math.ceil((hi - lo + 1) / LOG_LABELS);
  lo = Math.floor(lo / every) * every;
  hi = Math.ceil(hi / every) * every;
  const out: number[] = [];
  // written as decimal literals: 10 ** -24 is 1.0000000000000001e-24
  for (let e = lo; e <= hi; e += every) out.push(Number(`1e${e}`));
  return out;
}

/** A log axis over its ticks: plain numbers in the everyday range, otherwise all as 1e-25. */
function logAxis(values: number[]) {
  const ticks = logTicks(values);
  const plain = ticks.every((t) => t >= 0.001 && t < 100_000);
  return {
    scale: { type: 'log' as const, domain: ticks.length ? [ticks[0], ticks[ticks.length - 1]] : undefined, nice: false },
    axis: { values: ticks, labelExpr: plain ? "format(datum.value, '~g')" : "replace(format(datum.value, '.0e'), 'e+', 'e')" },
  };
}

/** A linear axis: y from zero when nothing is negative, x over the data alone with a label every ~80 px. */
function linearAxis(values: number[], x: { width: number; counts: boolean } | null) {
  return {
    scale: { type: 'linear' as const, zero: !x && values.length > 0 && Math.min(...values) >= 0, nice: !x },
    axis: {
      ...(x ? { tickCount: Math.max(2, Math.round(x.width / 80)) } : {}),
      // x that counts things (steps, positions) gets no tick between two counts
      ...(x?.counts ? { tickMinStep: 1, format: 'd' } : {}),
    },
  };
}

/** A legend under a plot `width` wide: as many columns as its longest label lets fit. */
function legend(labels: string[], width: number) {
  const item = 30 + Math.max(...labels.map((l) => textWidth(l, LEGEND_FONT))) + COLUMN_PADDING;
  return {
    title: null,
    orient: 'bottom' as const,
    direction: 'horizontal' as const,
    columns: Math.max(1, Math.min(labels.length, Math.floor(width / item))),
  };
}

/** The color (and, when a series is dashed, strokeDash) encodings of these looks. */
function seriesEncoding(l: Looks, width: number) {
  const lg = legend(l.labels, width);
  const color = { field: 'series', type: 'nominal' as const, scale: { domain: l.labels, range: l.colors }, legend: lg };
  if (!l.dashed.some(Boolean)) return { color };
  const strokeDash = {
    field: 'series',
    type: 'nominal' as const,
    scale: { domain: l.labels, range: l.dashed.map((d) => (d ? DASH : [1, 0])) },
    legend: lg,
  };
  return { color, strokeDash };
}

function panelSpec(p: Panel, width: number, height: number, series: ReturnType<typeof seriesEncoding>) {
  const logX = p.logX === true,
    logY = p.logY === true;
  const xs = shown(
    p.series.flatMap((s) => s.points.map((q) => q[0])),
    logX,
  );
  const ys = shown([...p.series.flatMap((s) => s.points.map((q) => q[1])), ...(p.hLines ?? []).map((l) => l.y)], logY);
  const x = {
    field: 'x',
    type: 'quantitative' as const,
    title: p.xLabel,
    ...(logX ? logAxis(xs) : linearAxis(xs, { width, counts: xs.every(Number.isInteger) })),
  };
  const y = { field: 'y', type: 'quantitative' as const, title: p.yLabel, ...(logY ? logAxis(ys) : linearAxis(ys, null)) };
  const lines = {
    data: {
      // one row per series, its points as two columns, flattened back into rows by the spec
      values: p.series.map((s) => ({
        series: s.label,
        x: s.points.map((q) => datum(q[0], logX)),
        y: s.points.map((q) => datum(q[1], logY)),
      })),
    },
    transform: [{ flatten: ['x', 'y'] }],
    // a missing value breaks the line instead of bridging values that do not exist
    mark: { type: 'line' as const, strokeWidth: 1.75, clip: true, invalid: 'break-paths-filter-domains' as const },
    encoding: { x, y, ...series },
  };
  const references = (p.hLines ?? []).filter((l) => datum(l.y, logY) !== null);
  const at = { field: 'y', type: 'quantitative' as const };
  const label = (side: 'right' | 'left') => ({
    mark: {
      type: 'text' as const,
      align: side,
      baseline: 'bottom' as const,
      dx: side === 'right' ? -4 : 4,
      dy: -2,
      color: REFERENCE,
      fontSize: 11,
    },
    encoding: { x: { value: side === 'right' ? width : 0 }, y: at, text: { field: 'label' } },
  });
  // one label at the right end of its line; with more lines, every other label at the left end,
  // so that two lines close together do not print their labels over each other
  const labels =
    references.length > 1
      ? (['right', 'left'] as const).map((side) => ({ transform: [{ filter: `datum.side === '${side}'` }], ...label(side) }))
      : [label('right')];
  const rules = references.length
    ? [
        {
          data: {
            values: references.map((l, i) => ({
              y: l.y,
              label: l.label,
              ...(references.length > 1 ? { side: i % 2 ? 'left' : 'right' } : {}),
            })),
          },
          layer: [
            { mark: { type: 'rule' as const, color: REFERENCE, strokeDash: [2, 3], strokeWidth: 1 }, encoding: { y: at } },
            ...labels,
          ],
        },
      ]
    : [];
  return { title: p.title, width, height, layer: [lines, ...rules] };
}

/**
 * The figure as a Vega-Lite spec, its data inline, ready for vega-lite's compile. Panels that
 * show the same series share one legend under the figure; otherwise each panel has its own.
 */
export function vegaLiteSpec(fig: Figure): TopLevelSpec {
  const all = looks(fig);
  const width = fig.panelWidth ?? 360,
    height = fig.panelHeight ?? 240;
  const n = fig.panels.length;
  const columns = Math.max(1, Math.min(fig.columns ?? n, n));
  const panelLabels = fig.panels.map((p) => [...new Set(p.series.map((s) => s.label))]);
  const shared = panelLabels.every((l) => l.length === all.labels.length);
  const SPACING = 40;
  const figureEncoding = seriesEncoding(all, columns * width + (columns - 1) * SPACING);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: fig.title, fontSize: 15, anchor: 'middle', offset: 14 },
    background: 'white',
    padding: 12,
    columns,
    concat: fig.panels.map((p, i) =>
      panelSpec(p, width, height, shared ? figureEncoding : seriesEncoding(subset(all, panelLabels[i]), width)),
    ),
    spacing: { row: 28, column: SPACING },
    ...(shared ? {} : { resolve: { scale: { color: 'independent', strokeDash: 'independent' } } }),
    config: {
      font: FONT,
      view: { stroke: '#9a9a9a' },
      title: { fontSize: 13, fontWeight: 'bold' },
      axis: {
        labelFontSize: 11,
        titleFontSize: 12,
        titleFontWeight: 'normal',
        gridColor: GRID,
        domainColor: '#9a9a9a',
        tickColor: '#9a9a9a',
        labelColor: '#333',
        titleColor: '#222',
      },
      legend: {
        labelFontSize: LEGEND_FONT,
        labelLimit: 0,
        symbolType: 'stroke',
        symbolStrokeWidth: 2.5,
        symbolSize: 320,
        columnPadding: COLUMN_PADDING,
        rowPadding: 6,
        offset: 16,
      },
    },
  };
}

interface TextMetrics {
  width(item: { text?: unknown; fontSize?: number }, text?: unknown): number;
}

export interface Charting {
  /** The spec rendered as an SVG document. */
  render(spec: TopLevelSpec): Promise<string>;
}

type Importer = (name: 'vega' | 'vega-lite') => Promise<unknown>;

const IMPORTS = { vega: () => import('vega'), 'vega-lite': () => import('vega-lite') };
/** The packages' own imports by default; a test passes one that fails. */
const importModule: Importer = (name) => IMPORTS[name]();

/**
 * vega and vega-lite, imported now: call it before an experiment runs, so that a missing package
 * stops it before any training.
 */
export async function loadCharting(load: Importer = importModule): Promise<Charting> {
  const get = async <T>(name: 'vega' | 'vega-lite'): Promise<T> => {
    try {
      return (await load(name)) as T;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw new ChartingUnavailableError(name);
      throw e;
    }
  };
  const vega = await get<typeof import('vega')>('vega');
  const vl = await get<typeof import('vega-lite')>('vega-lite');
  return {
    async render(spec) {
      const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
      // vega's text measure is exported (vega-scenegraph's textMetrics) but not in its types
      const metrics = (vega as unknown as { textMetrics?: TextMetrics }).textMetrics;
      const estimate = metrics?.width;
      if (metrics) metrics.width = (item, text) => textWidth(String(text ?? item.text ?? ''), item.fontSize ?? 11);
      try {
        // clip-path and gradient ids count up per process: reset them so that a figure is the same bytes every time
        vega.resetSVGDefIds();
        return `<?xml version="1.0" encoding="UTF-8"?>\n${await view.toSVG()}\n`;
      } finally {
        if (metrics && estimate) metrics.width = estimate;
        view.finalize();
      }
    },
  };
}

/** A spec as JSON, indented, with each array of numbers or strings on one line (the data stays compact). */
export function specJson(value: unknown, indent = ''): string {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) return JSON.stringify(value);
    const inner = `${indent}  `;
    return `[\n${value.map((v) => inner + specJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const inner = `${indent}  `;
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${specJson(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}
