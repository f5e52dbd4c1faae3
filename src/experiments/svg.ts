// A small line-chart renderer: panels of labelled series on linear or log-10 axes, written as
// one self-contained SVG string. The experiments' figures are committed to the repository and
// must be regenerable on a fresh clone without a browser or a charting dependency, and line
// charts of a few series are all they draw. Pure string building: no DOM, no Node built-ins.

export interface Series {
  label: string;
  /** [x, y] points; a non-finite y (or y ≤ 0 on a log axis) breaks the line there. */
  points: ReadonlyArray<readonly [number, number]>;
  /** CSS colour; default: the next of the palette. */
  color?: string;
  dashed?: boolean;
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  logY?: boolean;
  logX?: boolean;
  series: Series[];
  /** Horizontal reference lines (e.g. a baseline), drawn thin and grey with their label. */
  hLines?: { y: number; label: string }[];
}

export interface Figure {
  title: string;
  panels: Panel[];
  /** Panels per row; default all in one row. */
  columns?: number;
  panelWidth?: number;
  panelHeight?: number;
}

/** Colour-blind-safe (Okabe–Ito), distinguishable in greyscale print by their dash patterns too. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

const MARGIN = { left: 64, right: 16, top: 28, bottom: 44 };
const LEGEND_ROW = 16;

/** XML-escapes text content and attribute values. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A number short enough for a tick label: 0.001 → 1e-3, 12000 → 1.2e4, 0.25 → 0.25. */
export function tickText(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-2) {
    const [m, e] = v.toExponential(1).split('e');
    return `${m.replace(/\.0$/, '')}e${Number(e)}`;
  }
  return String(Number(v.toPrecision(3)));
}

/** About `n` round ticks over [lo, hi] (steps of 1, 2 or 5 × 10^k). */
export function linearTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/** Powers of ten over [lo, hi] (exponents), thinned so that at most ~8 are labelled. */
export function logTicks(lo: number, hi: number): number[] {
  const a = Math.floor(lo),
    b = Math.ceil(hi);
  const every = Math.max(1, Math.ceil((b - a) / 8));
  const out: number[] = [];
  for (let e = a; e <= b; e++) if ((e - a) % every === 0) out.push(e);
  return out;
}

interface Scale {
  lo: number;
  hi: number;
  log: boolean;
}

function extent(values: number[], log: boolean): Scale {
  const v = values.filter((x) => Number.isFinite(x) && (!log || x > 0)).map((x) => (log ? Math.log10(x) : x));
  if (v.length === 0) return { lo: 0, hi: 1, log };
  let lo = Math.min(...v),
    hi = Math.max(...v);
  if (log) {
    lo = Math.floor(lo);
    hi = Math.ceil(hi);
    if (hi === lo) hi = lo + 1;
  } else {
    if (hi === lo) {
      lo -= 0.5;
      hi += 0.5;
    }
    const t = linearTicks(lo, hi);
    const step = t.length > 1 ? t[1] - t[0] : (hi - lo) / 5;
    lo = Math.floor(lo / step) * step;
    hi = Math.ceil(hi / step) * step;
  }
  return { lo, hi, log };
}

const f1 = (v: number): string => (Math.round(v * 10) / 10).toString();

function renderPanel(p: Panel, x0: number, y0: number, w: number, h: number, colorStart: number): string {
  const legendRows = p.series.length + (p.hLines?.length ?? 0);
  const plotW = w - MARGIN.left - MARGIN.right;
  const plotH = h - MARGIN.top - MARGIN.bottom - legendRows * LEGEND_ROW;
  const xs = extent(
    p.series.flatMap((s) => s.points.map((q) => q[0])),
    p.logX === true,
  );
  const ys = extent([...p.series.flatMap((s) => s.points.map((q) => q[1])), ...(p.hLines ?? []).map((l) => l.y)], p.logY === true);
  const px = (v: number): number => x0 + MARGIN.left + (((xs.log ? Math.log10(v) : v) - xs.lo) / (xs.hi - xs.lo)) * plotW;
  const py = (v: number): number => y0 + MARGIN.top + plotH - (((ys.log ? Math.log10(v) : v) - ys.lo) / (ys.hi - ys.lo)) * plotH;
  const left = x0 + MARGIN.left,
    top = y0 + MARGIN.top,
    bottom = top + plotH,
    right = left + plotW;
  const out: string[] = [];
  out.push(`<g class="panel">`);
  out.push(
    `<text class="panel-title" x="${f1(left + plotW / 2)}" y="${f1(y0 + 18)}" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`,
  );
  out.push(`<rect x="${f1(left)}" y="${f1(top)}" width="${f1(plotW)}" height="${f1(plotH)}" fill="none" stroke="#444"/>`);
  let xt = xs.log ? logTicks(xs.lo, xs.hi).map((e) => 10 ** e) : linearTicks(xs.lo, xs.hi);
  // x that counts things (positions, steps) gets no tick between two counts
  const counts = p.series.every((s) => s.points.every((q) => Number.isInteger(q[0])));
  if (counts && xt.filter(Number.isInteger).length >= 2) xt = xt.filter(Number.isInteger);
  const yt = ys.log ? logTicks(ys.lo, ys.hi).map((e) => 10 ** e) : linearTicks(ys.lo, ys.hi);
  for (const v of xt) {
    const X = px(v);
    if (X < left - 0.5 || X > right + 0.5) continue;
    out.push(`<line x1="${f1(X)}" y1="${f1(top)}" x2="${f1(X)}" y2="${f1(bottom)}" stroke="#ddd"/>`);
    out.push(
      `<text class="tick" x="${f1(X)}" y="${f1(bottom + 14)}" text-anchor="middle">${esc(xs.log ? `1e${Math.round(Math.log10(v))}` : tickText(v))}</text>`,
    );
  }
  for (const v of yt) {
    const Y = py(v);
    if (Y < top - 0.5 || Y > bottom + 0.5) continue;
    out.push(`<line x1="${f1(left)}" y1="${f1(Y)}" x2="${f1(right)}" y2="${f1(Y)}" stroke="#ddd"/>`);
    out.push(
      `<text class="tick" x="${f1(left - 4)}" y="${f1(Y + 4)}" text-anchor="end">${esc(ys.log ? `1e${Math.round(Math.log10(v))}` : tickText(v))}</text>`,
    );
  }
  out.push(`<text class="x-label" x="${f1(left + plotW / 2)}" y="${f1(bottom + 32)}" text-anchor="middle">${esc(p.xLabel)}</text>`);
  out.push(
    `<text class="y-label" x="${f1(x0 + 14)}" y="${f1(top + plotH / 2)}" text-anchor="middle" transform="rotate(-90 ${f1(x0 + 14)} ${f1(top + plotH / 2)})">${esc(p.yLabel)}</text>`,
  );
  const clip = `clip${Math.round(x0)}_${Math.round(y0)}`;
  out.push(`<clipPath id="${clip}"><rect x="${f1(left)}" y="${f1(top)}" width="${f1(plotW)}" height="${f1(plotH)}"/></clipPath>`);
  for (const l of p.hLines ?? []) {
    if (!(Number.isFinite(l.y) && (!ys.log || l.y > 0))) continue;
    out.push(
      `<line class="reference" x1="${f1(left)}" y1="${f1(py(l.y))}" x2="${f1(right)}" y2="${f1(py(l.y))}" stroke="#888" stroke-dasharray="2 3"/>`,
    );
  }
  p.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[(colorStart + i) % PALETTE.length];
    // a gap in the data (a refused step, a zero on a log axis) starts a new subpath instead of
    // drawing a line through values that do not exist
    let d = '',
      pen = false;
    for (const [x, y] of s.points) {
      const ok = Number.isFinite(x) && Number.isFinite(y) && (!ys.log || y > 0) && (!xs.log || x > 0);
      if (!ok) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${f1(px(x))} ${f1(py(y))}`;
      pen = true;
    }
    const dash = s.dashed ? ' stroke-dasharray="6 3"' : '';
    // a single point draws nothing as a line: a round cap makes it a dot
    out.push(
      `<path class="series" data-label="${esc(s.label)}" d="${d || 'M0 0'}" fill="none" stroke="${color}" stroke-width="1.5" stroke-linecap="round"${dash} clip-path="url(#${clip})"${d ? '' : ' visibility="hidden"'}/>`,
    );
  });
  let ly = bottom + MARGIN.bottom - 4;
  p.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[(colorStart + i) % PALETTE.length];
    const dash = s.dashed ? ' stroke-dasharray="6 3"' : '';
    out.push(`<line x1="${f1(left)}" y1="${f1(ly)}" x2="${f1(left + 24)}" y2="${f1(ly)}" stroke="${color}" stroke-width="2"${dash}/>`);
    out.push(`<text class="legend" x="${f1(left + 30)}" y="${f1(ly + 4)}">${esc(s.label)}</text>`);
    ly += LEGEND_ROW;
  });
  for (const l of p.hLines ?? []) {
    out.push(`<line x1="${f1(left)}" y1="${f1(ly)}" x2="${f1(left + 24)}" y2="${f1(ly)}" stroke="#888" stroke-dasharray="2 3"/>`);
    out.push(`<text class="legend" x="${f1(left + 30)}" y="${f1(ly + 4)}">${esc(l.label)}</text>`);
    ly += LEGEND_ROW;
  }
  out.push('</g>');
  return out.join('\n');
}

/** The figure as an SVG document. */
export function renderFigure(fig: Figure): string {
  const n = fig.panels.length;
  const columns = Math.max(1, Math.min(fig.columns ?? n, n));
  const rows = Math.ceil(n / columns);
  const w = fig.panelWidth ?? 460;
  const maxLegend = Math.max(0, ...fig.panels.map((p) => p.series.length + (p.hLines?.length ?? 0)));
  const h = (fig.panelHeight ?? 300) + maxLegend * LEGEND_ROW;
  const titleH = 30;
  const W = columns * w,
    H = titleH + rows * h;
  const body = fig.panels.map((p, i) => renderPanel(p, (i % columns) * w, titleH + Math.floor(i / columns) * h, w, h, 0));
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<title>${esc(fig.title)}</title>`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text class="figure-title" x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(fig.title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
