#!/usr/bin/env python3
"""PyTorch peer of unrolled's step benchmark (bench/peers.ts runs it through bench/peers/torch.ts).

One training step, exactly as unrolled's Trainer.step does it: forward over the whole sequence
(nn.LSTM / nn.GRU / nn.RNN(tanh), time-major [T, B, I], batch_first=False) + nn.Linear head (every
step or last step) + loss (softmax cross-entropy from logits, or MSE) + full BPTT (backward) +
clip_grad_norm_(5) + Adam(lr 1e-3), float32, CPU. One-hot inputs (B1, B4) are F.one_hot'ed once,
outside the timed step. Each step is timed on its own with time.perf_counter after a warm-up;
the script prints ONE JSON object on stdout (progress goes to stderr).

Usage (from the repository root):
  /usr/bin/python3 bench/peers/torch_bench.py                   # B1-B5, 1 thread
  /usr/bin/python3 bench/peers/torch_bench.py --threads 2 --configs B1,B3
  /usr/bin/python3 bench/peers/torch_bench.py --quick           # tiny sizes, smoke test
  ... --configs-json '[{"name": ..., "cell": ..., ...}]'         # what bench/peers/torch.ts passes
Timing: up to --warmup warm-up steps (fewer if they take longer than half of --time-ms), then
steps until at least --min-iters samples AND --time-ms elapsed (or --max-iters samples).
"""

import argparse
import json
import os
import statistics
import sys
import time

# The thread count must be fixed before torch (and its OpenMP / BLAS) starts: the Node wrapper
# also sets these variables in the child's environment; this covers standalone runs.
def _threads_from_argv(argv):
    for i, a in enumerate(argv):
        if a == '--threads' and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith('--threads='):
            return a.split('=', 1)[1]
    return '1'


_T = _threads_from_argv(sys.argv[1:])
for _v in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ.setdefault(_v, _T)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

# The benchmark configurations (bench/configs.ts): used when no --configs-json is given.
CONFIGS = [
    dict(name='B1', cell='lstm', inputSize=65, tokens=True, hiddenSize=256, T=64, B=32, outputSize=65, at='every', loss='cross-entropy'),
    dict(name='B2', cell='rnn', inputSize=32, tokens=False, hiddenSize=128, T=128, B=16, outputSize=1, at='last', loss='mse'),
    dict(name='B3', cell='gru', inputSize=64, tokens=False, hiddenSize=128, T=32, B=64, outputSize=10, at='every', loss='cross-entropy'),
    dict(name='B4', cell='lstm', inputSize=65, tokens=True, hiddenSize=128, T=25, B=1, outputSize=65, at='every', loss='cross-entropy'),
    dict(name='B5', cell='lstm', inputSize=128, tokens=False, hiddenSize=512, T=32, B=32, outputSize=128, at='every', loss='cross-entropy'),
]


def quick(c):
    """The tiny sizes of bench/peers.ts --quick (keep in sync with quickConfig there)."""
    return dict(c, hiddenSize=min(c['hiddenSize'], 32), T=min(c['T'], 8), B=min(c['B'], 4))


def blas_info():
    """Which BLAS torch really calls: the build's BLAS_INFO plus the shared libraries mapped
    into this process after a matmul (Debian's torch links libblas.so.3, an alternative)."""
    show = torch.__config__.show()
    build = {}
    for line in show.splitlines():
        if 'BLAS_INFO' in line or 'LAPACK_INFO' in line:
            for part in line.strip().lstrip('-').split(','):
                if '=' in part:
                    k, v = part.strip().split('=', 1)
                    k = k.split()[-1]               # 'Build settings: BLAS_INFO' -> 'BLAS_INFO'
                    if k in ('BLAS_INFO', 'LAPACK_INFO', 'USE_MKLDNN', 'USE_OPENMP'):
                        build[k] = v
    a = torch.randn(64, 64)
    (a @ a).sum().item()
    libs = set()
    try:
        with open('/proc/self/maps') as f:
            for line in f:
                p = line.split()[-1] if len(line.split()) >= 6 else ''
                base = os.path.basename(p).lower()
                if any(k in base for k in ('blas', 'lapack', 'mkl', 'gomp', 'libomp', 'dnnl')):
                    libs.add(p)
    except OSError:
        pass
    libblas = None
    for cand in ('/usr/lib/x86_64-linux-gnu/libblas.so.3', '/usr/lib/aarch64-linux-gnu/libblas.so.3'):
        if os.path.exists(cand):
            libblas = os.path.realpath(cand)
    lines = [l.strip() for l in show.splitlines()]
    cpu_cap = next((l.split(':', 1)[1].strip() for l in lines if 'CPU capability usage' in l), None)
    return dict(build=build, libblas=libblas, mapped=sorted(libs), cpuCapability=cpu_cap,
                mkldnnEnabled=bool(torch.backends.mkldnn.enabled))


def build(c, seed=1):
    torch.manual_seed(seed)
    I, H, O, T, B = c['inputSize'], c['hiddenSize'], c['outputSize'], c['T'], c['B']
    if c['cell'] == 'lstm':
        rnn = nn.LSTM(I, H)
    elif c['cell'] == 'gru':
        rnn = nn.GRU(I, H)
    else:
        rnn = nn.RNN(I, H, nonlinearity='tanh')
    head = nn.Linear(H, O)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    if c['tokens']:
        # one-hot float input, built once, outside the timed step
        x = F.one_hot(torch.randint(0, I, (T, B)), I).float()
    else:
        x = torch.rand(T, B, I) * 2 - 1
    rows = T * B if c['at'] == 'every' else B
    ce = c['loss'] == 'cross-entropy'
    y = torch.randint(0, O, (rows,)) if ce else torch.rand(rows, O) * 2 - 1

    def step():
        opt.zero_grad(set_to_none=True)
        out, _ = rnn(x)                           # [T, B, H]
        if c['at'] == 'last':
            out = out[-1]                         # [B, H]
        logits = head(out).reshape(rows, O)
        loss = F.cross_entropy(logits, y) if ce else F.mse_loss(logits, y)
        loss.backward()
        nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        return loss

    return step


def measure(step, warmup, min_iters, max_iters, time_ms):
    budget = time_ms / 1000.0
    t0 = time.perf_counter()
    for _ in range(max(1, warmup)):
        step()
        if time.perf_counter() - t0 > budget / 2:
            break
    samples = []
    t0 = time.perf_counter()
    while len(samples) < max_iters and (len(samples) < min_iters or time.perf_counter() - t0 < budget):
        s = time.perf_counter()
        step()
        samples.append((time.perf_counter() - s) * 1000.0)
    return samples


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--configs', default='', help='comma-separated names (default: all)')
    ap.add_argument('--configs-json', default='', help='JSON list of bench/configs.ts objects (overrides the built-in table)')
    ap.add_argument('--quick', action='store_true', help='tiny sizes (ignored with --configs-json)')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--min-iters', type=int, default=3)
    ap.add_argument('--max-iters', type=int, default=1000)
    ap.add_argument('--time-ms', type=float, default=3000)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    if a.configs_json:
        configs = json.loads(a.configs_json)
    else:
        configs = [quick(c) if a.quick else c for c in CONFIGS]
    if a.configs:
        names = a.configs.split(',')
        configs = [c for c in configs if c['name'] in names]

    results = []
    for c in configs:
        step = build(c)
        print(f"torch {c['name']} ...", file=sys.stderr, flush=True)
        samples = measure(step, a.warmup, a.min_iters, a.max_iters, a.time_ms)
        results.append(dict(config=c['name'], medianMs=statistics.median(samples), minMs=min(samples),
                            samples=len(samples)))
    out = dict(torch=torch.__version__, python=sys.version.split()[0], threads=torch.get_num_threads(),
               interopThreads=torch.get_num_interop_threads(), blas=blas_info(), results=results)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
