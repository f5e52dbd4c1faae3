// PyTorch peer: runs bench/peers/torch_bench.py with /usr/bin/python3 as a child process (the
// configurations are passed as JSON, so --quick sizes are the same as the other runners') and
// parses the one JSON object it prints. Skips cleanly (returns { skipped }) when
// `python3 -c "import torch"` fails.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchConfig } from '../configs.js';

export const PYTHON = process.env.UNROLLED_BENCH_PYTHON ?? '/usr/bin/python3';
// dist-bench/peers/torch.js -> bench/peers/torch_bench.py (the script is not compiled)
export const SCRIPT = fileURLToPath(new URL('../../bench/peers/torch_bench.py', import.meta.url));

export interface TorchResult {
  config: string;
  medianMs: number;
  minMs: number;
  samples: number;
}
export interface TorchBlas {
  build: Record<string, string>;
  libblas: string | null;
  mapped: string[];
  cpuCapability: string | null;
  mkldnnEnabled: boolean;
}
export interface TorchRun {
  torch: string;
  python: string;
  threads: number;
  interopThreads: number;
  blas: TorchBlas;
  results: TorchResult[];
}
export interface TorchTiming {
  warmup: number;
  minIters: number;
  maxIters: number;
  timeMs: number;
}

function threadEnv(threads: number): NodeJS.ProcessEnv {
  const n = String(threads);
  return { ...process.env, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n };
}

/** null when torch imports, else why not. */
export function torchUnavailable(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  if (!existsSync(SCRIPT)) return `${SCRIPT} not found`;
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', timeout: 60_000, env: threadEnv(1) });
  if (r.error) return `${PYTHON} -c "import torch": ${r.error.message}`;
  if (r.status !== 0) {
    const last = (r.stderr || '').trim().split('\n').pop() ?? '';
    return `${PYTHON} -c "import torch" failed${last ? `: ${last}` : ''}`;
  }
  return null;
}

/** Runs every configuration in one child process; its progress lines go to our stderr. */
export function runTorch(configs: BenchConfig[], threads: number, t: TorchTiming): Promise<TorchRun> {
  const args = [
    SCRIPT,
    '--threads',
    String(threads),
    '--configs-json',
    JSON.stringify(configs),
    '--warmup',
    String(t.warmup),
    '--min-iters',
    String(t.minIters),
    '--max-iters',
    String(t.maxIters),
    '--time-ms',
    String(t.timeMs),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'inherit'], env: threadEnv(threads) });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`torch_bench.py exited with ${code}`));
        return;
      }
      const line = out
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{'));
      if (!line) {
        reject(new Error(`torch_bench.py printed no JSON: ${out.slice(0, 500)}`));
        return;
      }
      try {
        resolve(JSON.parse(line) as TorchRun);
      } catch (e) {
        reject(e);
      }
    });
  });
}
