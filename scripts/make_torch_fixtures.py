#!/usr/bin/env python3
"""Generate PyTorch reference fixtures for unrolled (see /work/shared/SPEC.md semantics).

Each case builds nn.RNN / nn.LSTM / nn.GRU (batch_first=False) + nn.Linear head `head`,
runs forward + loss + backward in float64 and writes test/fixtures/torch/<name>.json with
flat row-major arrays: config, params, shapes, x, y, mask, lengths, h0, c0, predictions,
loss, hN, cN, grads (every parameter, h0, c0).

Usage (from the repository root):  python3 scripts/make_torch_fixtures.py
Deterministic: fixed per-case seeds, one thread, float64; re-running gives identical files.
"""

import json
import os
import sys
import zlib

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "test", "fixtures", "torch")

PARAM_SCALE = 1.5  # widen PyTorch's default U(-1/sqrt(H), 1/sqrt(H)) so biases are not tiny
STATE_STD = 0.5    # h0 / c0 ~ N(0, 0.5^2)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def flat_int(t):
    return [int(v) for v in t.detach().reshape(-1).tolist()]


def case(name, cell, *, nonlinearity="tanh", I=7, H=13, O=5, L=1, T=6, B=3,
         input="dense", loss="mse", at="every", reduction="mean", masked=False):
    if input == "tokens" and I == 7:
        I = 11  # vocabulary size for token cases
    return dict(name=name, cell=cell, nonlinearity=nonlinearity if cell == "rnn" else "tanh",
                inputSize=I, hiddenSize=H, outputSize=O, numLayers=L, T=T, B=B, input=input,
                loss=loss, at=at, reduction=reduction, masked=masked)


def build_cases():
    cases = []
    for act in ("tanh", "relu"):
        p = "rnn_" + act
        kw = dict(nonlinearity=act)
        for at in ("every", "last"):
            for loss, ln in (("mse", "mse"), ("cross-entropy", "ce")):
                cases.append(case(f"{p}_dense_{at}_{ln}_mean", "rnn", at=at, loss=loss, **kw))
        cases.append(case(f"{p}_masked_every_ce_mean", "rnn", at="every", loss="cross-entropy",
                          masked=True, **kw))
        cases.append(case(f"{p}_masked_last_mse_mean", "rnn", at="last", loss="mse",
                          masked=True, **kw))
        cases.append(case(f"{p}_tokens_every_ce_mean", "rnn", input="tokens", at="every",
                          loss="cross-entropy", **kw))
        cases.append(case(f"{p}_dense_every_mse_sum", "rnn", at="every", loss="mse",
                          reduction="sum", **kw))
        cases.append(case(f"{p}_dense_last_ce_sum", "rnn", at="last", loss="cross-entropy",
                          reduction="sum", **kw))
        cases.append(case(f"{p}_t1b1_every_ce_mean", "rnn", T=1, B=1, at="every",
                          loss="cross-entropy", **kw))
        cases.append(case(f"{p}_l2_dense_every_ce_mean", "rnn", L=2, at="every",
                          loss="cross-entropy", **kw))
        cases.append(case(f"{p}_l2_dense_last_mse_mean", "rnn", L=2, at="last", loss="mse",
                          **kw))
    cases.append(case("rnn_tanh_large_every_ce_mean", "rnn", I=19, H=37, O=9, T=9, B=5,
                      at="every", loss="cross-entropy"))

    for cell in ("lstm", "gru"):
        c = cell
        cases.append(case(f"{c}_l1_dense_every_ce_mean", c, at="every", loss="cross-entropy"))
        cases.append(case(f"{c}_l1_dense_last_mse_mean", c, at="last", loss="mse"))
        cases.append(case(f"{c}_l1_dense_every_mse_mean", c, at="every", loss="mse"))
        cases.append(case(f"{c}_l1_dense_last_ce_mean", c, at="last", loss="cross-entropy"))
        cases.append(case(f"{c}_l1_dense_every_mse_sum", c, at="every", loss="mse",
                          reduction="sum"))
        cases.append(case(f"{c}_l3_dense_every_ce_mean", c, L=3, at="every",
                          loss="cross-entropy"))
        cases.append(case(f"{c}_l3_dense_last_mse_mean", c, L=3, at="last", loss="mse"))
        cases.append(case(f"{c}_l1_masked_every_ce_mean", c, at="every", loss="cross-entropy",
                          masked=True))
        cases.append(case(f"{c}_l2_masked_last_mse_mean", c, L=2, at="last", loss="mse",
                          masked=True))
        cases.append(case(f"{c}_l1_tokens_every_ce_mean", c, input="tokens", at="every",
                          loss="cross-entropy"))
        cases.append(case(f"{c}_t1b1_every_ce_mean", c, T=1, B=1, at="every",
                          loss="cross-entropy"))
        cases.append(case(f"{c}_large_every_ce_mean", c, I=19, H=37, O=9, T=9, B=5,
                          at="every", loss="cross-entropy"))
    return cases


def make_lengths(T, B, g):
    assert T >= 2 and B >= 2, "masked cases need T >= 2 and B >= 2"
    lengths = torch.randint(1, T + 1, (B,), generator=g)
    # at least one full-length and one shorter sequence, full one not first (unsorted order)
    lengths[B - 1] = T
    lengths[0] = int(torch.randint(1, T, (1,), generator=g))
    return lengths


def run_case(cfg):
    name = cfg["name"]
    seed = zlib.crc32(name.encode()) & 0x7FFFFFFF
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 1)

    cell, I, H, O = cfg["cell"], cfg["inputSize"], cfg["hiddenSize"], cfg["outputSize"]
    L, T, B = cfg["numLayers"], cfg["T"], cfg["B"]

    if cell == "rnn":
        rnn = nn.RNN(I, H, num_layers=L, nonlinearity=cfg["nonlinearity"], batch_first=False)
    elif cell == "lstm":
        rnn = nn.LSTM(I, H, num_layers=L, batch_first=False)
    else:
        rnn = nn.GRU(I, H, num_layers=L, batch_first=False)
    head = nn.Linear(H, O)
    with torch.no_grad():
        for p in list(rnn.parameters()) + list(head.parameters()):
            p.mul_(PARAM_SCALE)

    # inputs
    if cfg["input"] == "dense":
        x_store = torch.randn(T, B, I, generator=g)
        x_in = x_store
    else:
        x_store = torch.randint(0, I, (T, B), generator=g)
        x_in = F.one_hot(x_store, I).to(torch.float64)

    lengths = make_lengths(T, B, g) if cfg["masked"] else None
    if lengths is not None:
        mask = (torch.arange(T).unsqueeze(1) < lengths.unsqueeze(0)).to(torch.float64)  # [T,B]
    else:
        mask = None

    h0 = (torch.randn(L, B, H, generator=g) * STATE_STD).requires_grad_(True)
    c0 = (torch.randn(L, B, H, generator=g) * STATE_STD).requires_grad_(True) \
        if cell == "lstm" else None

    # targets
    pred_shape = (T, B, O) if cfg["at"] == "every" else (B, O)
    if cfg["loss"] == "mse":
        y = torch.randn(*pred_shape, generator=g)
    else:
        y = torch.randint(0, O, pred_shape[:-1], generator=g)

    # forward
    state = (h0, c0) if cell == "lstm" else h0
    if lengths is not None:
        packed = pack_padded_sequence(x_in, lengths, enforce_sorted=False)
        out_p, st = rnn(packed, state)
        out, _ = pad_packed_sequence(out_p, total_length=T, padding_value=0.0)
    else:
        out, st = rnn(x_in, state)
    hN, cN = (st if cell == "lstm" else (st, None))

    if cfg["at"] == "every":
        pred = head(out)  # [T,B,O]
    else:
        pred = head(hN[-1])  # [B,O]

    red = cfg["reduction"]
    if cfg["at"] == "every" and mask is not None:
        m = mask.bool()
        if cfg["loss"] == "mse":
            per = ((pred - y) ** 2).sum(-1)  # [T,B]
            total = per[m].sum()
            count = m.sum() * O
        else:
            per = F.cross_entropy(pred.reshape(-1, O), y.reshape(-1), reduction="none")
            total = per.reshape(T, B)[m].sum()
            count = m.sum()
        loss = total / count if red == "mean" else total
    else:
        if cfg["loss"] == "mse":
            loss = F.mse_loss(pred, y, reduction=red)
        else:
            loss = F.cross_entropy(pred.reshape(-1, O), y.reshape(-1), reduction=red)

    loss.backward()

    params, shapes, grads = {}, {}, {}
    named = [(k, v) for k, v in rnn.named_parameters()] + \
            [("head." + k, v) for k, v in head.named_parameters()]
    for k, v in named:
        params[k] = flat(v)
        shapes[k] = list(v.shape)
        grads[k] = flat(v.grad)
    grads["h0"] = flat(h0.grad)
    if c0 is not None:
        grads["c0"] = flat(c0.grad)

    pred_store = pred.detach()
    if cfg["at"] == "every" and mask is not None:
        pred_store = pred_store * mask.unsqueeze(-1)  # padded rows stored as 0

    return {
        "name": name,
        "config": {k: cfg[k] for k in ("cell", "nonlinearity", "inputSize", "hiddenSize",
                                       "outputSize", "numLayers", "T", "B", "input", "loss",
                                       "at", "reduction", "masked")},
        "params": params,
        "shapes": shapes,
        "x": flat(x_store) if cfg["input"] == "dense" else flat_int(x_store),
        "y": flat(y) if cfg["loss"] == "mse" else flat_int(y),
        "mask": flat(mask) if mask is not None else None,
        "lengths": flat_int(lengths) if lengths is not None else None,
        "h0": flat(h0),
        "c0": flat(c0) if c0 is not None else None,
        "predictions": flat(pred_store),
        "loss": float(loss.item()),
        "hN": flat(hN),
        "cN": flat(cN) if cN is not None else None,
        "grads": grads,
    }


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    cases = build_cases()
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    for cfg in cases:
        data = run_case(cfg)
        path = os.path.join(OUT_DIR, cfg["name"] + ".json")
        with open(path, "w") as f:
            json.dump(data, f, separators=(",", ":"))
            f.write("\n")
    print(f"wrote {len(cases)} fixtures to {os.path.relpath(OUT_DIR, ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
