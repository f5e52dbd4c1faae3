// The demo page: pick a text and a model, press Train, and watch a character model learn in a
// Web Worker (the page itself never blocks): a live loss curve, the gradient flow through time
// (‖∂E/∂h_t‖ per step t of a chunk) and generated samples, and the weights as a safetensors file.
//
// It uses unrolled as a user would: `import … from 'unrolled'` (the package's exports map), and
// createTrainingWorker() from 'unrolled/worker', whose `new Worker(new URL('./trainer-worker.js',
// import.meta.url))` the bundler follows, emitting the worker and the Wasm cores it fetches as assets.
import './locale-guard.js'; // before uPlot, which formats numbers in navigator.language on load
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import {
  relaxedSimdSupported,
  simdSupported,
  type CellKind,
  type GradientFlowEvent,
  type ProgressEvent,
  type RunInfo,
  type SampleEvent,
  type TrainingConfig,
  type TrainingWorker,
} from 'unrolled';
import { CORPUS } from 'unrolled/tasks';
import { createTrainingWorker } from 'unrolled/worker';

// ---- the page's elements --------------------------------------------------------------------

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};

const form = $<HTMLFormElement>('controls');
const textArea = $<HTMLTextAreaElement>('text');
const customText = $<HTMLDivElement>('custom-text');
const sourceHint = $<HTMLParagraphElement>('source-hint');
const textCount = $<HTMLSpanElement>('text-count');
const fileInput = $<HTMLInputElement>('file');
const trainButton = $<HTMLButtonElement>('train');
const pauseButton = $<HTMLButtonElement>('pause');
const stopButton = $<HTMLButtonElement>('stop');
const downloadButton = $<HTMLButtonElement>('download');
const statusLine = $<HTMLParagraphElement>('status');
const clipModeSelect = $<HTMLSelectElement>('clip-mode');
const clipInput = $<HTMLInputElement>('clip');
const clipHint = $<HTMLParagraphElement>('clip-hint');
const samplesList = $<HTMLOListElement>('samples');
const sampleHint = $<HTMLSpanElement>('sample-hint');
const lossEl = $<HTMLDivElement>('loss-chart');
const gradEl = $<HTMLDivElement>('grad-chart');
const gradStep = $<HTMLSpanElement>('grad-step');
const lossSummary = $<HTMLSpanElement>('loss-summary');
const stat = {
  step: $('stat-step'),
  loss: $('stat-loss'),
  speed: $('stat-speed'),
  grad: $('stat-grad'),
  params: $('stat-params'),
};

const COLORS = ['#4f46e5', '#0ea5e9', '#10b981'];
const SAMPLE_EVERY = 100;
const TEMPERATURE = 0.8;

// ---- environment badges -----------------------------------------------------------------------

/** A badge: its text, whether it is good news, and optionally an id and a tooltip. */
type Badge = { text: string; ok: boolean; id?: string; title?: string };

function badges(extra: Badge[] = []): void {
  const env = $('env');
  const items: Badge[] = [
    {
      text: simdSupported() ? (relaxedSimdSupported() ? 'Wasm relaxed SIMD' : 'Wasm SIMD') : 'Wasm (no SIMD)',
      ok: simdSupported(),
    },
    crossOriginIsolated
      ? { text: 'cross-origin isolated', ok: true, title: 'shared memory is available: training uses several threads' }
      : {
          text: 'not cross-origin isolated',
          ok: false,
          title: 'no shared memory, so training runs on one thread (the server must send COOP and COEP headers)',
        },
    ...extra,
  ];
  env.replaceChildren(
    ...items.map(({ text, ok, id, title }) => {
      const b = document.createElement('span');
      b.className = `badge ${ok ? 'ok' : 'warn'}`;
      b.textContent = text;
      if (id) b.id = id;
      if (title) b.title = title;
      return b;
    }),
  );
}
badges();

/** What the run computes on, e.g. "wasm-threads-relaxed · 2 threads" or "js backend · 1 thread". */
function coreLabel(i: RunInfo): string {
  const engine = i.backend === 'wasm' ? `wasm-${i.variant}` : 'js backend';
  return `${engine} · ${i.threads} ${i.threads === 1 ? 'thread' : 'threads'}`;
}

// ---- the text ---------------------------------------------------------------------------------

function source(): 'corpus' | 'custom' {
  return (form.elements.namedItem('source') as RadioNodeList).value as 'corpus' | 'custom';
}

function updateSource(): void {
  const custom = source() === 'custom';
  customText.hidden = !custom;
  sourceHint.textContent = custom
    ? 'Any text works; a few thousand characters or more learns best.'
    : `unrolled's own notes on recurrent networks (${CORPUS.length.toLocaleString('en-US')} characters).`;
  updateCount();
}

function updateCount(): void {
  const n = [...textArea.value].length;
  textCount.textContent = n ? `${n.toLocaleString('en-US')} characters` : '';
}

for (const r of form.querySelectorAll<HTMLInputElement>('input[name="source"]')) r.addEventListener('change', updateSource);
textArea.addEventListener('input', updateCount);
fileInput.addEventListener('change', async () => {
  const file = fileInput.files?.[0];
  if (!file) return;
  textArea.value = await file.text();
  updateCount();
  fileInput.value = '';
});
updateSource();

// ---- charts (uPlot) -----------------------------------------------------------------------------

const axis = (label: string, extra: Partial<uPlot.Axis> = {}): uPlot.Axis => ({
  label,
  labelSize: 22,
  labelFont: '500 12px system-ui, sans-serif',
  font: '12px system-ui, sans-serif',
  stroke: '#667085',
  grid: { stroke: '#eef0f3', width: 1 },
  ticks: { stroke: '#e4e7ec', width: 1, size: 5 },
  ...extra,
});

const chartHeight = 240;

let lossChart: uPlot | null = null;
let gradChart: uPlot | null = null;
const lossData: { steps: number[]; losses: number[]; baseline: number[] } = { steps: [], losses: [], baseline: [] };
let gradFirst: GradientFlowEvent | null = null;
let gradLast: GradientFlowEvent | null = null;

function placeholder(el: HTMLElement, text: string): void {
  const p = document.createElement('div');
  p.className = 'placeholder';
  p.textContent = text;
  el.replaceChildren(p);
  el.style.height = '';
}

function makeLossChart(info: RunInfo): uPlot {
  lossEl.replaceChildren();
  lossEl.style.height = 'auto';
  const ln = Math.log(info.vocabSize);
  return new uPlot(
    {
      width: lossEl.clientWidth,
      height: chartHeight,
      scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(ln * 1.08, max * 1.04)] } },
      axes: [axis('step'), axis('nats per character', { size: 46, values: (_u, ticks) => ticks.map((t) => t.toFixed(1)) })],
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      series: [
        { label: 'step', value: (_u, v) => (v == null ? '' : String(v)) },
        {
          label: 'loss',
          stroke: COLORS[0],
          width: 2,
          fill: 'rgba(79, 70, 229, 0.07)',
          points: { show: false },
          value: (_u, v) => (v == null ? '' : v.toFixed(3)),
        },
        {
          label: `uniform guess, ln ${info.vocabSize}`,
          stroke: '#98a2b3',
          width: 1.25,
          dash: [5, 5],
          points: { show: false },
          value: () => ln.toFixed(3),
        },
      ],
    },
    [[], [], []],
    lossEl,
  );
}

function makeGradChart(info: RunInfo): uPlot {
  gradEl.replaceChildren();
  gradEl.style.height = 'auto';
  const L = info.model.numLayers;
  const series: uPlot.Series[] = [{ label: 't', value: (_u, v) => (v == null ? '' : String(v)) }];
  for (let l = 0; l < L; l++) {
    series.push({
      label: L > 1 ? `layer ${l + 1}` : 'latest',
      stroke: COLORS[l % COLORS.length],
      width: 2,
      points: { show: info.config.seq <= 32, size: 4 },
      value: (_u, v) => (v == null ? '' : v.toExponential(2)),
    });
  }
  series.push({
    label: L > 1 ? 'layer 1 at step 1' : 'at step 1',
    stroke: '#98a2b3',
    width: 1.25,
    dash: [5, 5],
    points: { show: false },
    value: (_u, v) => (v == null ? '' : v.toExponential(2)),
  });
  return new uPlot(
    {
      width: gradEl.clientWidth,
      height: chartHeight,
      scales: { x: { time: false }, y: { distr: 3, log: 10 } },
      axes: [
        axis('step t within the chunk'),
        axis('‖∂E/∂hₜ‖', { size: 58, values: (_u, ticks) => ticks.map((t) => (t == null ? '' : fmtSci(t))) }),
      ],
      cursor: { drag: { x: false, y: false } },
      series,
    },
    [[], ...series.slice(1).map(() => [])],
    gradEl,
  );
}

function fmtSci(v: number): string {
  if (v === 0) return '0';
  const e = Math.floor(Math.log10(Math.abs(v)) + 1e-9);
  const m = v / 10 ** e;
  return Math.abs(m - 1) < 1e-6 ? `1e${e}` : `${+m.toFixed(1)}e${e}`;
}

const positive = (v: number): number | null => (v > 0 && Number.isFinite(v) ? v : null);

// redraw at most once per animation frame
let lossDirty = false;
let gradDirty = false;
let frame = 0;
function redraw(): void {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    if (lossDirty && lossChart) {
      lossChart.setData([lossData.steps, lossData.losses, lossData.baseline]);
      lossEl.dataset.points = String(lossData.steps.length);
    }
    if (gradDirty && gradChart && gradLast) {
      const T = gradLast.norms[0].length;
      const xs = Array.from({ length: T }, (_, t) => t + 1);
      const data: uPlot.AlignedData = [
        xs,
        ...gradLast.norms.map((a) => Array.from(a, positive)),
        gradFirst ? Array.from(gradFirst.norms[0], positive) : [],
      ];
      gradChart.setData(data);
      gradEl.dataset.points = String(T * gradLast.norms.length);
      gradStep.textContent = `latest: step ${gradLast.step}${info ? ` · ${clipText(info.config)}` : ''}`;
      gradEl.dataset.step = String(gradLast.step);
    }
    lossDirty = gradDirty = false;
  });
}

new ResizeObserver(() => {
  if (lossChart) lossChart.setSize({ width: lossEl.clientWidth, height: chartHeight });
  if (gradChart) gradChart.setSize({ width: gradEl.clientWidth, height: chartHeight });
}).observe(lossEl);

placeholder(lossEl, 'The loss curve appears here once training starts.');
placeholder(gradEl, 'The gradient flow over the steps of a chunk appears here.');

// ---- samples ------------------------------------------------------------------------------------

function addSample(s: SampleEvent): void {
  samplesList.querySelector('.empty')?.remove();
  const li = document.createElement('li');
  const step = document.createElement('span');
  step.className = 'step';
  step.textContent = `step ${s.step}`;
  const prime = document.createElement('span');
  prime.className = 'prime';
  prime.textContent = s.prime;
  li.append(step, prime, document.createTextNode(s.text));
  samplesList.prepend(li);
  while (samplesList.children.length > 6) samplesList.lastElementChild!.remove();
}

// ---- training ---------------------------------------------------------------------------------

type UiState = 'idle' | 'starting' | 'running' | 'paused' | 'done' | 'failed';

let worker: TrainingWorker | null = null;
let ui: UiState = 'idle';
let info: RunInfo | null = null;
let firstLoss = NaN;

/** What the Playwright test reads. */
const probe = {
  get state() {
    return ui;
  },
  get info() {
    return info;
  },
  /** What the gradient-flow chart shows now: one array per plotted series (nulls, off a log scale, left out). */
  get gradPlotted(): number[][] {
    return gradChart ? gradChart.data.slice(1).map((a) => (a as (number | null)[]).filter((v): v is number => v != null)) : [];
  },
  /** The largest ‖∂E/∂h_t‖ of every gradient event of the run, not only the one on screen. */
  gradMax: 0,
  firstLoss: NaN,
  lastLoss: NaN,
  progressEvents: 0,
  gradientEvents: 0,
  samples: 0,
  error: '' as string,
};
(window as unknown as { __demo: typeof probe }).__demo = probe;

function setStatus(text: string, kind: '' | 'error' | 'ok' = ''): void {
  statusLine.textContent = text;
  statusLine.className = `status ${kind}`.trim();
}

function setUi(state: UiState): void {
  ui = state;
  const busy = state === 'starting' || state === 'running' || state === 'paused';
  trainButton.disabled = busy;
  trainButton.textContent = {
    idle: 'Train',
    starting: 'Starting…',
    running: 'Training…',
    paused: 'Training…',
    done: 'Train again',
    failed: 'Train again',
  }[state];
  pauseButton.disabled = !(state === 'running' || state === 'paused');
  pauseButton.textContent = state === 'paused' ? 'Resume' : 'Pause';
  stopButton.disabled = !(state === 'running' || state === 'paused');
  downloadButton.disabled = !(info && (state === 'running' || state === 'paused' || state === 'done'));
  for (const el of form.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>('input, select, textarea'))
    el.disabled = busy;
  // re-enabling every field would otherwise offer a threshold that 'none' ignores
  if (!busy) clipInput.disabled = clipModeSelect.value === 'none';
  document.body.dataset.state = state;
}

function readConfig(): TrainingConfig {
  const value = (id: string): number => Number(($(id) as HTMLSelectElement).value);
  const cell = (form.elements.namedItem('cell') as RadioNodeList).value as CellKind;
  const config: TrainingConfig = {
    cell,
    hidden: value('hidden'),
    layers: value('layers'),
    seq: value('seq'),
    batch: value('batch'),
    lr: value('lr'),
    clipMode: clipModeSelect.value as ClipMode,
    // an empty or unreadable field goes to the worker as NaN, whose ConfigError the status shows
    clip: clipModeSelect.value === 'none' ? 0 : clipInput.value.trim() === '' ? NaN : Number(clipInput.value),
    steps: value('steps'),
    seed: 0,
    sampleEvery: SAMPLE_EVERY,
    sampleLength: 240,
    temperature: TEMPERATURE,
    gradientEvery: 10,
    progressIntervalMs: 120,
    // as many threads as the machine has (up to 4) where the page is cross-origin isolated;
    // the worker falls back to one thread where it is not
    threads: 'auto',
  };
  if (source() === 'custom') config.text = textArea.value;
  return config;
}

function getWorker(): TrainingWorker {
  if (worker && worker.state !== 'failed' && worker.state !== 'terminated') return worker;
  worker?.terminate().catch(() => {});
  const w = createTrainingWorker();
  w.on('progress', onProgress);
  w.on('gradients', (g) => {
    probe.gradientEvents++;
    for (const a of g.norms) for (const v of a) if (v > probe.gradMax) probe.gradMax = v;
    if (!gradFirst) gradFirst = g;
    gradLast = g;
    gradDirty = true;
    redraw();
  });
  w.on('sample', (s) => {
    probe.samples++;
    addSample(s);
  });
  w.on('state', (s) => {
    setUi(s.state);
    if (s.state === 'paused') setStatus(`Paused at step ${s.step}.`);
    else if (info) setStatus(runningText(info));
  });
  w.on('done', (d) => {
    setUi('done');
    const what = d.reason === 'finished' ? 'Finished' : 'Stopped';
    setStatus(`${what}: ${d.step} steps in ${d.seconds.toFixed(1)} s, loss ${fmt(d.firstLoss)} → ${fmt(d.finalLoss)}.`, 'ok');
  });
  w.on('error', (e) => {
    probe.error = e.message;
    setUi('failed');
    setStatus(e.message, 'error');
  });
  worker = w;
  return w;
}

function runningText(i: RunInfo): string {
  const names: Record<string, string> = {
    relaxed: 'relaxed-SIMD',
    simd: 'SIMD',
    scalar: 'scalar',
    threads: 'multi-threaded SIMD',
    'threads-relaxed': 'multi-threaded relaxed-SIMD',
  };
  const threads = i.threads > 1 ? ` (${i.threads} threads)` : '';
  const core = i.backend === 'wasm' ? `${names[i.variant ?? ''] ?? i.variant} Wasm core${threads}` : 'JS backend';
  const cell = i.model.cell.toUpperCase();
  return `Training ${cell === 'GRU' ? 'a' : 'an'} ${cell} in a Web Worker on the ${core}: ${i.characters.toLocaleString('en-US')} characters, vocabulary ${i.vocabSize}; ${clipText(i.config)}.`;
}

type ClipMode = NonNullable<TrainingConfig['clipMode']>;

const CLIP_NAMES: Record<ClipMode, string> = {
  none: 'no clipping',
  norm: 'global norm',
  value: 'per element',
  hidden: 'per timestep',
};

function clipActive(c: Pick<RunInfo['config'], 'clipMode' | 'clip'>): ClipMode {
  return c.clip > 0 ? c.clipMode : 'none';
}

/** The clipping in force, as the status line and the gradient-flow legend say it. */
function clipText(c: Pick<RunInfo['config'], 'clipMode' | 'clip'>): string {
  const mode = clipActive(c);
  const bound = {
    none: '',
    norm: ` (‖g‖ ≤ ${c.clip})`,
    value: ` (|gᵢ| ≤ ${c.clip})`,
    hidden: ` (‖∂E/∂hₜ‖ ≤ ${c.clip} per sequence)`,
  }[mode];
  return mode === 'none' ? 'no clipping' : `clipping: ${CLIP_NAMES[mode]}${bound}`;
}

function updateClipHint(): void {
  const mode = clipModeSelect.value as ClipMode;
  clipInput.disabled = mode === 'none' || trainButton.disabled;
  clipHint.textContent = {
    none: 'The gradients are used as they are.',
    norm: 'Scales all the gradients together so that their L2 norm is at most the threshold.',
    value: 'Clamps every gradient element to ± the threshold.',
    hidden: 'Scales ∂E/∂hₜ of each sequence to norm ≤ the threshold at every step t, inside BPTT: the plot shows the clipped values.',
  }[mode];
}
clipModeSelect.addEventListener('change', updateClipHint);
updateClipHint();

function fmt(x: number, digits = 3): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '—';
}

function onProgress(p: ProgressEvent): void {
  probe.progressEvents++;
  if (!Number.isFinite(p.loss)) return;
  if (Number.isNaN(firstLoss)) {
    firstLoss = p.loss;
    probe.firstLoss = p.loss;
  }
  probe.lastLoss = p.loss;
  lossData.steps.push(p.step);
  lossData.losses.push(p.loss);
  lossData.baseline.push(Math.log(info?.vocabSize ?? 1));
  lossDirty = true;
  redraw();
  const steps = info?.config.steps ?? 0;
  stat.step.textContent = `${p.step.toLocaleString('en-US')}${steps ? ` / ${steps.toLocaleString('en-US')}` : ''}`;
  stat.loss.textContent = fmt(p.loss);
  stat.loss.title = `first ${fmt(firstLoss)}`;
  lossSummary.textContent = `${fmt(firstLoss)} → ${fmt(p.loss)}`;
  stat.speed.textContent = p.stepsPerSec > 0 ? `${p.stepsPerSec < 10 ? p.stepsPerSec.toFixed(1) : Math.round(p.stepsPerSec)} steps/s` : '—';
  stat.grad.textContent = `${fmt(p.gradNorm, 2)}${p.clipped ? ' ✂' : ''}`;
  stat.grad.title = p.clipped && info ? `clipped (${clipText(info.config)})` : '';
}

function reset(): void {
  lossData.steps = [];
  lossData.losses = [];
  lossData.baseline = [];
  gradFirst = gradLast = null;
  firstLoss = NaN;
  Object.assign(probe, { firstLoss: NaN, lastLoss: NaN, progressEvents: 0, gradientEvents: 0, gradMax: 0, samples: 0, error: '' });
  for (const el of Object.values(stat)) el.textContent = '—';
  lossChart?.destroy();
  lossChart = null;
  gradChart?.destroy();
  gradChart = null;
  lossEl.dataset.points = '0';
  gradEl.dataset.points = '0';
  gradStep.textContent = '';
  lossSummary.textContent = '';
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  if (ui === 'starting' || ui === 'running' || ui === 'paused') return;
  const config = readConfig();
  if (config.text !== undefined) {
    const need = config.batch! * config.seq! + 1;
    const have = [...(config.text ?? '')].length;
    if (have < need) {
      setStatus(
        `Your text has ${have.toLocaleString('en-US')} characters; batch ${config.batch} × sequence ${config.seq} needs at least ${need.toLocaleString('en-US')}. Paste more, or lower them.`,
        'error',
      );
      return;
    }
  }
  reset();
  info = null;
  setUi('starting');
  setStatus('Building the model…');
  try {
    const w = getWorker();
    info = await w.start(config);
    lossChart = makeLossChart(info);
    gradChart = makeGradChart(info);
    stat.params.textContent = info.parameters.toLocaleString('en-US');
    sampleHint.textContent = `The model writes after a prime from the text (every ${SAMPLE_EVERY} steps, temperature ${TEMPERATURE}).`;
    badges([{ text: coreLabel(info), ok: true, id: 'core' }]);
    if ((ui as UiState) === 'starting') setUi('running');
    setStatus(runningText(info));
    downloadButton.disabled = false;
  } catch (err) {
    setUi('failed');
    setStatus((err as Error).message, 'error');
    probe.error = (err as Error).message;
    placeholder(lossEl, 'The loss curve appears here once training starts.');
    placeholder(gradEl, 'The gradient flow over the steps of a chunk appears here.');
  }
});

pauseButton.addEventListener('click', () => {
  if (!worker) return;
  pauseButton.disabled = true;
  (ui === 'paused' ? worker.resume() : worker.pause()).catch((e: Error) => setStatus(e.message, 'error'));
});

stopButton.addEventListener('click', () => {
  stopButton.disabled = true;
  worker?.stop().catch((e: Error) => setStatus(e.message, 'error'));
});

downloadButton.addEventListener('click', async () => {
  if (!worker || !info) return;
  try {
    const bytes = await worker.getWeights();
    const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `unrolled-${info.model.cell}-${info.model.numLayers}x${info.model.hiddenSize}.safetensors`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    setStatus(`Saved ${(bytes.byteLength / 1024).toFixed(0)} KB of weights (PyTorch names; the vocabulary is in the metadata).`, 'ok');
  } catch (e) {
    setStatus((e as Error).message, 'error');
  }
});

setUi('idle');
