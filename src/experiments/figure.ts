// What an experiment's figure shows, independent of how it is drawn: panels of labelled line
// series on linear or log-10 axes, with horizontal reference lines. The experiments build this
// description; chart.ts turns it into a Vega-Lite spec and an SVG.

export interface Series {
  label: string;
  /** [x, y] points; a non-finite y (or a y ≤ 0 on a log axis) breaks the line there. */
  points: ReadonlyArray<readonly [number, number]>;
  /** CSS colour; default: the first palette colour no other series has. A label keeps one colour in every panel. */
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
  /** Horizontal reference lines (e.g. a baseline), drawn thin, grey and dashed with their label. */
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

/** Colour-blind-safe (Okabe–Ito). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];
