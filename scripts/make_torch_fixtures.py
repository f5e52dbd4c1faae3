#!/usr/bin/env python3
"""Generate PyTorch reference fixtures for unrolled (conventions: docs/equations.md).

Each case builds nn.RNN / nn.LSTM / nn.GRU (batch_first=False) + nn.Linear head `head`,
runs forward + loss + backward in float64 and writes test/fixtures/torch/<name>.json with
flat row-major arrays: config, params, shapes, x, y, mask, lengths, h0, c0, predictions,
outputs (the top layer's hidden sequence [T,B,H], padded steps 0 as pad_packed_sequence gives
them), loss, hN, cN, grads (every parameter, h0, c0, and x [T,B,I] for dense input).

Usage (from the repository root):  python3 scripts/make_torch_fixtures.py
Deterministic: fixed per-case seeds, one thread, float64; re-running gives identical files.
`--class-weights-only` writes only the cw_* cases (cross-entropy with nn.CrossEntropyLoss(weight=w));
`--module-only` only safetensors/module_lstm_fc: the state_dict of an nn.Module holding `lstm` and `fc`.

Safetensors interchange (a minimal reader/writer below; no `safetensors` package needed):
  * the default run (and `--safetensors-only`) also writes
    test/fixtures/torch/safetensors/<cell>.safetensors (a PyTorch state_dict: nn.LSTM / nn.GRU /
    nn.RNN, 2 layers, plus `head`) and <cell>.json (inputs, h0/c0 and PyTorch's outputs / hN / cN);
  * `--check-unrolled` reads test/fixtures/unrolled/*.safetensors written BY UNROLLED (see
    test/model/safetensors.test.ts), loads each into torch modules with load_state_dict(strict=True),
    runs the inputs stored in the matching .json and compares with unrolled's stored outputs
    (relative error <= 1e-5); exits 1 if any file fails.
"""

import json
import os
import struct
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
         input="dense", loss="mse", at="every", reduction="mean", masked=False,
         bidirectional=False, bias=True, projSize=0, classWeights=None):
    if input == "tokens" and I == 7:
        I = 11  # vocabulary size for token cases
    return dict(name=name, cell=cell, nonlinearity=nonlinearity if cell == "rnn" else "tanh",
                inputSize=I, hiddenSize=H, outputSize=O, numLayers=L, T=T, B=B, input=input,
                loss=loss, at=at, reduction=reduction, masked=masked,
                bidirectional=bidirectional, bias=bias, projSize=projSize,
                classWeights=classWeights)


# the layer options, stored in a fixture's config only when not at their defaults (so the
# fixtures of plain stacks stay as they were)
LAYER_DEFAULTS = {"bidirectional": False, "bias": True, "projSize": 0, "classWeights": None}


def build_class_weight_cases():
    """Cross-entropy with class weights, PyTorch's CrossEntropyLoss(weight=w): odd sizes, one
    class weighing 0, padded batches (the counted rows are the real steps), mean and sum."""
    return [
        case("cw_lstm_l2_masked_every_ce_mean", "lstm", I=5, H=7, O=5, L=2, T=7, B=4,
             at="every", loss="cross-entropy", masked=True,
             classWeights=[0.5, 2.0, 0.0, 1.25, 3.0]),
        case("cw_gru_l1_dense_last_ce_mean", "gru", I=5, H=7, O=3, T=5, B=5, at="last",
             loss="cross-entropy", classWeights=[3.0, 0.25, 1.0]),
        case("cw_bi_rnn_tanh_l1_masked_every_ce_sum", "rnn", I=5, H=7, O=3, T=6, B=3,
             at="every", loss="cross-entropy", reduction="sum", masked=True,
             bidirectional=True, classWeights=[1.5, 0.75, 2.5]),
        case("cw_rnn_relu_l1_tokens_every_ce_mean", "rnn", nonlinearity="relu", I=9, H=7, O=9,
             T=5, B=3, input="tokens", at="every", loss="cross-entropy",
             classWeights=[1.0, 2.0, 0.5, 0.0, 1.0, 4.0, 1.0, 0.25, 1.5]),
    ]


def build_layer_cases():
    """Bidirectional stacks (every cell, 1-2 layers, with lengths, odd sizes I=5, H=7) and
    stacks without biases: PyTorch's bidirectional=True and bias=False."""
    cases = []
    cells = (("rnn_tanh", "rnn", "tanh"), ("rnn_relu", "rnn", "relu"), ("lstm", "lstm", "tanh"),
             ("gru", "gru", "tanh"))
    for p, cell, act in cells:
        kw = dict(nonlinearity=act, I=5, H=7, O=3, bidirectional=True)
        cases.append(case(f"bi_{p}_l1_dense_every_mse_mean", cell, T=6, B=3, at="every",
                          loss="mse", **kw))
        cases.append(case(f"bi_{p}_l2_masked_every_ce_mean", cell, L=2, T=7, B=4, at="every",
                          loss="cross-entropy", masked=True, **kw))
        cases.append(case(f"bi_{p}_l2_masked_last_mse_mean", cell, L=2, T=6, B=3, at="last",
                          loss="mse", masked=True, **kw))
        cases.append(case(f"bi_{p}_l1_dense_last_ce_sum", cell, T=5, B=2, at="last",
                          loss="cross-entropy", reduction="sum", **kw))
        kw_tokens = dict(nonlinearity=act, I=9, H=7, O=9, bidirectional=True)
        cases.append(case(f"bi_{p}_l2_tokens_every_ce_mean", cell, L=2, T=5, B=3,
                          input="tokens", at="every", loss="cross-entropy", masked=True,
                          **kw_tokens))
        cases.append(case(f"nobias_{p}_l2_dense_every_ce_mean", cell, nonlinearity=act, I=5, H=7,
                          O=3, L=2, T=6, B=3, at="every", loss="cross-entropy", bias=False))
        cases.append(case(f"nobias_bi_{p}_l2_masked_every_mse_mean", cell, nonlinearity=act, I=5,
                          H=7, O=3, L=2, T=6, B=3, at="every", loss="mse", masked=True,
                          bidirectional=True, bias=False))
    # LSTM with a projection (proj_size P = 3 < H = 7, odd sizes): h, the outputs and h0 have P
    kw = dict(I=5, H=7, O=3, projSize=3)
    cases.append(case("proj_lstm_l1_dense_every_mse_mean", "lstm", T=6, B=3, at="every",
                      loss="mse", **kw))
    cases.append(case("proj_lstm_l2_masked_every_ce_mean", "lstm", L=2, T=7, B=4, at="every",
                      loss="cross-entropy", masked=True, **kw))
    cases.append(case("proj_lstm_l2_masked_last_mse_sum", "lstm", L=2, T=6, B=3, at="last",
                      loss="mse", reduction="sum", masked=True, **kw))
    cases.append(case("proj_bi_lstm_l2_masked_every_mse_mean", "lstm", L=2, T=6, B=3,
                      at="every", loss="mse", masked=True, bidirectional=True, **kw))
    cases.append(case("proj_bi_lstm_l1_dense_last_ce_sum", "lstm", T=5, B=2, at="last",
                      loss="cross-entropy", reduction="sum", bidirectional=True, **kw))
    cases.append(case("proj_nobias_lstm_l2_tokens_every_ce_mean", "lstm", L=2, T=5, B=3,
                      input="tokens", at="every", loss="cross-entropy", masked=True, I=9, H=7,
                      O=9, bias=False, projSize=2))
    return cases


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
        cases.append(case(f"{p}_l3_masked_every_mse_mean", "rnn", I=9, H=11, O=3, L=3, T=7,
                          B=5, at="every", loss="mse", masked=True, **kw))
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
        cases.append(case(f"{c}_l3_masked_every_mse_mean", c, I=9, H=11, O=3, L=3, T=7, B=5,
                          at="every", loss="mse", masked=True))
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

    bi, bias, proj = cfg["bidirectional"], cfg["bias"], cfg["projSize"]
    D = 2 if bi else 1
    R = proj if proj > 0 else H  # the size of h
    if cell == "rnn":
        rnn = nn.RNN(I, H, num_layers=L, nonlinearity=cfg["nonlinearity"], batch_first=False,
                     bidirectional=bi, bias=bias)
    elif cell == "lstm":
        rnn = nn.LSTM(I, H, num_layers=L, batch_first=False, bidirectional=bi, bias=bias,
                      proj_size=proj)
    else:
        rnn = nn.GRU(I, H, num_layers=L, batch_first=False, bidirectional=bi, bias=bias)
    head = nn.Linear(D * R, O)
    with torch.no_grad():
        for p in list(rnn.parameters()) + list(head.parameters()):
            p.mul_(PARAM_SCALE)

    # inputs
    if cfg["input"] == "dense":
        x_store = torch.randn(T, B, I, generator=g).requires_grad_(True)
        x_in = x_store
    else:
        x_store = torch.randint(0, I, (T, B), generator=g)
        x_in = F.one_hot(x_store, I).to(torch.float64)

    lengths = make_lengths(T, B, g) if cfg["masked"] else None
    if lengths is not None:
        mask = (torch.arange(T).unsqueeze(1) < lengths.unsqueeze(0)).to(torch.float64)  # [T,B]
    else:
        mask = None

    h0 = (torch.randn(L * D, B, R, generator=g) * STATE_STD).requires_grad_(True)
    c0 = (torch.randn(L * D, B, H, generator=g) * STATE_STD).requires_grad_(True) \
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
    elif bi:
        pred = head(torch.cat([hN[-2], hN[-1]], -1))  # [B,O]: both directions' final states
    else:
        pred = head(hN[-1])  # [B,O]

    red = cfg["reduction"]
    if cfg["classWeights"] is not None:
        # nn.CrossEntropyLoss(weight=w) itself, over the counted rows only (the real steps)
        w = torch.tensor(cfg["classWeights"])
        logits, targets = pred.reshape(-1, O), y.reshape(-1)
        if cfg["at"] == "every" and mask is not None:
            keep = mask.reshape(-1).bool()
            logits, targets = logits[keep], targets[keep]
        loss = nn.CrossEntropyLoss(weight=w, reduction=red)(logits, targets)
    elif cfg["at"] == "every" and mask is not None:
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
    if cfg["input"] == "dense":
        grads["x"] = flat(x_store.grad)

    pred_store = pred.detach()
    if cfg["at"] == "every" and mask is not None:
        pred_store = pred_store * mask.unsqueeze(-1)  # padded rows stored as 0

    return {
        "name": name,
        "config": {**{k: cfg[k] for k in ("cell", "nonlinearity", "inputSize", "hiddenSize",
                                          "outputSize", "numLayers", "T", "B", "input", "loss",
                                          "at", "reduction", "masked")},
                   **{k: cfg[k] for k, v in LAYER_DEFAULTS.items() if cfg[k] != v}},
        "params": params,
        "shapes": shapes,
        "x": flat(x_store) if cfg["input"] == "dense" else flat_int(x_store),
        "y": flat(y) if cfg["loss"] == "mse" else flat_int(y),
        "mask": flat(mask) if mask is not None else None,
        "lengths": flat_int(lengths) if lengths is not None else None,
        "h0": flat(h0),
        "c0": flat(c0) if c0 is not None else None,
        "predictions": flat(pred_store),
        "outputs": flat(out),
        "loss": float(loss.item()),
        "hN": flat(hN),
        "cN": flat(cN) if cN is not None else None,
        "grads": grads,
    }


# ---------------------------------------------------------------------------------------------
# safetensors interchange

ST_TORCH_DIR = os.path.join(OUT_DIR, "safetensors")
ST_UNROLLED_DIR = os.path.join(ROOT, "test", "fixtures", "unrolled")
ST_DTYPES = {"F32": (torch.float32, 4), "F64": (torch.float64, 8), "I32": (torch.int32, 4),
             "I64": (torch.int64, 8), "U8": (torch.uint8, 1)}
ST_NAMES = {v[0]: k for k, v in ST_DTYPES.items()}
ST_TOL = 1e-5


def st_encode(tensors, metadata=None):
    """Minimal safetensors writer: [(name, tensor)] in order, contiguous, little-endian; the JSON
    header compact with "__metadata__" first, padded with spaces to a multiple of 8."""
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, t in tensors:
        t = t.detach().contiguous().cpu()
        dtype = ST_NAMES[t.dtype]
        arr = t.numpy()
        blob = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes(order="C")
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def st_decode(data):
    """Minimal safetensors reader with the format's checks: returns ({name: tensor}, metadata)."""
    if len(data) < 8:
        raise ValueError("file shorter than 8 bytes")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ValueError(f"header length {n} beyond the file")

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate keys in the header")
        return dict(pairs)

    header = json.loads(data[8:8 + n].decode("utf-8"), object_pairs_hook=no_duplicates)
    if not isinstance(header, dict):
        raise ValueError("header is not an object")
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError("__metadata__ is not an object of strings")
    buf = data[8 + n:]
    out, spans = {}, []
    for name, info in header.items():
        if set(info) != {"dtype", "shape", "data_offsets"}:
            raise ValueError(f"{name}: fields {sorted(info)}")
        dtype, size = ST_DTYPES[info["dtype"]]
        shape, (b, e) = info["shape"], info["data_offsets"]
        count = 1
        for d in shape:
            count *= d
        if not 0 <= b <= e <= len(buf) or e - b != count * size:
            raise ValueError(f"{name}: data_offsets [{b}, {e}] do not hold shape {shape}")
        spans.append((b, e, name))
        raw = bytearray(buf[b:e])
        out[name] = torch.frombuffer(raw, dtype=dtype).reshape(shape).clone() if count else \
            torch.zeros(shape, dtype=dtype)
    at = 0
    for b, e, name in sorted(spans):
        if b != at:
            raise ValueError(f"{name}: overlap or gap at byte {at}")
        at = e
    if at != len(buf):
        raise ValueError("trailing bytes in the buffer")
    return out, metadata


def build_rnn(cell, I, H, L, nonlinearity="tanh", O=None, bidirectional=False, bias=True,
              proj_size=0):
    """nn.RNN / LSTM / GRU with the Linear head registered as its submodule `head`, so that its
    state_dict is exactly unrolled's: weight_ih_l0 … bias_hh_l{L-1} (with the _reverse tensors
    of a bidirectional stack, without the biases for bias=False), head.weight, head.bias."""
    kw = dict(num_layers=L, batch_first=False, bidirectional=bidirectional, bias=bias)
    if cell == "rnn":
        rnn = nn.RNN(I, H, nonlinearity=nonlinearity, **kw)
    elif cell == "lstm":
        rnn = nn.LSTM(I, H, proj_size=proj_size, **kw)
    else:
        rnn = nn.GRU(I, H, **kw)
    rnn.add_module("head", nn.Linear((2 if bidirectional else 1) * (proj_size or H), O))
    return rnn


def run_rnn(rnn, cell, x, h0, c0):
    out, st = rnn(x, (h0, c0) if cell == "lstm" else h0)
    hN, cN = (st if cell == "lstm" else (st, None))
    return rnn.head(out), hN, cN


def f32(t):
    """Rounded to float32 (kept as float64): values both sides can represent exactly."""
    return t.to(torch.float32).to(torch.float64)


# cell, nonlinearity, I, H, O, L, T, B, file dtype (sizes deliberately not multiples of 4)
ST_TORCH_CASES = [
    dict(name="lstm", cell="lstm", nonlinearity="tanh", I=5, H=7, O=3, L=2, T=6, B=3, dtype="F32"),
    dict(name="gru", cell="gru", nonlinearity="tanh", I=6, H=9, O=5, L=2, T=5, B=2, dtype="F64"),
    dict(name="rnn", cell="rnn", nonlinearity="tanh", I=3, H=11, O=2, L=2, T=7, B=3, dtype="F32"),
    dict(name="lstm_bidirectional", cell="lstm", nonlinearity="tanh", I=5, H=7, O=3, L=2, T=6,
         B=3, dtype="F32", bidirectional=True),
    dict(name="gru_bidirectional_nobias", cell="gru", nonlinearity="tanh", I=5, H=7, O=3, L=2,
         T=5, B=2, dtype="F64", bidirectional=True, bias=False),
    dict(name="rnn_relu_nobias", cell="rnn", nonlinearity="relu", I=5, H=7, O=3, L=2, T=5, B=3,
         dtype="F32", bias=False),
    dict(name="lstm_proj_bidirectional", cell="lstm", nonlinearity="tanh", I=5, H=7, O=3, L=2,
         T=6, B=3, dtype="F32", bidirectional=True, projSize=3),
]


def write_torch_safetensors():
    os.makedirs(ST_TORCH_DIR, exist_ok=True)
    for cfg in ST_TORCH_CASES:
        name, cell = cfg["name"], cfg["cell"]
        I, H, O, L, T, B = (cfg[k] for k in ("I", "H", "O", "L", "T", "B"))
        seed = zlib.crc32(("safetensors_" + name).encode()) & 0x7FFFFFFF
        torch.manual_seed(seed)
        g = torch.Generator().manual_seed(seed + 1)
        bi, bias, proj = cfg.get("bidirectional", False), cfg.get("bias", True), cfg.get("projSize", 0)
        D = 2 if bi else 1
        rnn = build_rnn(cell, I, H, L, cfg["nonlinearity"], O, bi, bias, proj)
        with torch.no_grad():
            for p in rnn.parameters():
                p.mul_(PARAM_SCALE)
                if cfg["dtype"] == "F32":
                    p.copy_(f32(p))
        x = f32(torch.randn(T, B, I, generator=g))
        h0 = f32(torch.randn(L * D, B, proj or H, generator=g) * STATE_STD)
        c0 = f32(torch.randn(L * D, B, H, generator=g) * STATE_STD) if cell == "lstm" else None
        with torch.no_grad():
            y, hN, cN = run_rnn(rnn, cell, x, h0, c0)
        file_dtype = ST_DTYPES[cfg["dtype"]][0]
        sd = [(k, v.to(file_dtype)) for k, v in rnn.state_dict().items()]
        with open(os.path.join(ST_TORCH_DIR, name + ".safetensors"), "wb") as f:
            f.write(st_encode(sd, {"format": "pt"}))
        data = {
            "name": name,
            "config": {"cell": cell, "nonlinearity": cfg["nonlinearity"], "inputSize": I,
                       "hiddenSize": H, "outputSize": O, "numLayers": L, "T": T, "B": B,
                       **({"bidirectional": True} if bi else {}),
                       **({"bias": False} if not bias else {}),
                       **({"projSize": proj} if proj else {})},
            "dtype": cfg["dtype"],
            "names": [k for k, _ in sd],
            "x": flat(x), "h0": flat(h0), "c0": flat(c0) if c0 is not None else None,
            "y": flat(y), "hN": flat(hN), "cN": flat(cN) if cN is not None else None,
        }
        with open(os.path.join(ST_TORCH_DIR, name + ".json"), "w") as f:
            json.dump(data, f, separators=(",", ":"))
            f.write("\n")
    print(f"wrote {len(ST_TORCH_CASES)} safetensors fixtures to "
          f"{os.path.relpath(ST_TORCH_DIR, ROOT)}", file=sys.stderr)


class PrefixedNet(nn.Module):
    """What a PyTorch user writes: the recurrent stack and the head as submodules `lstm` and
    `fc`, so that state_dict() names them `lstm.weight_ih_l0`, ..., `fc.weight`, `fc.bias`."""

    def __init__(self, I, H, O, L):
        super().__init__()
        self.lstm = nn.LSTM(I, H, num_layers=L, batch_first=False)
        self.fc = nn.Linear(H, O)

    def forward(self, x, h0, c0):
        out, (hN, cN) = self.lstm(x, (h0, c0))
        return self.fc(out), hN, cN


def write_torch_module_safetensors():
    """test/fixtures/torch/safetensors/module_lstm_fc.{safetensors,json}: the state_dict of a
    PrefixedNet (F32), which unrolled loads with { prefix: "lstm.", head: "fc." }."""
    os.makedirs(ST_TORCH_DIR, exist_ok=True)
    name, I, H, O, L, T, B = "module_lstm_fc", 5, 7, 3, 2, 6, 3
    seed = zlib.crc32(("safetensors_" + name).encode()) & 0x7FFFFFFF
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 1)
    net = PrefixedNet(I, H, O, L)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(f32(p * PARAM_SCALE))
    x = f32(torch.randn(T, B, I, generator=g))
    h0 = f32(torch.randn(L, B, H, generator=g) * STATE_STD)
    c0 = f32(torch.randn(L, B, H, generator=g) * STATE_STD)
    with torch.no_grad():
        y, hN, cN = net(x, h0, c0)
    sd = [(k, v.to(torch.float32)) for k, v in net.state_dict().items()]
    with open(os.path.join(ST_TORCH_DIR, name + ".safetensors"), "wb") as f:
        f.write(st_encode(sd, {"format": "pt"}))
    data = {
        "name": name,
        "config": {"cell": "lstm", "nonlinearity": "tanh", "inputSize": I, "hiddenSize": H,
                   "outputSize": O, "numLayers": L, "T": T, "B": B},
        "dtype": "F32",
        "names": [k for k, _ in sd],
        "x": flat(x), "h0": flat(h0), "c0": flat(c0),
        "y": flat(y), "hN": flat(hN), "cN": flat(cN),
    }
    with open(os.path.join(ST_TORCH_DIR, name + ".json"), "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {name} to {os.path.relpath(ST_TORCH_DIR, ROOT)}", file=sys.stderr)


def rel_err(a, b, floor=1e-3):
    """max |a - b| / max(max |b|, floor), as test/helpers.ts relErr."""
    a, b = torch.as_tensor(a, dtype=torch.float64).reshape(-1), \
        torch.as_tensor(b, dtype=torch.float64).reshape(-1)
    if a.numel() != b.numel():
        return float("inf")
    if a.numel() == 0:
        return 0.0
    return float((a - b).abs().max() / max(float(b.abs().max()), floor))


def check_unrolled_safetensors():
    """Loads every test/fixtures/unrolled/*.safetensors into torch (strict) and compares outputs."""
    files = sorted(f for f in os.listdir(ST_UNROLLED_DIR) if f.endswith(".safetensors")) \
        if os.path.isdir(ST_UNROLLED_DIR) else []
    if not files:
        print(f"no .safetensors files in {os.path.relpath(ST_UNROLLED_DIR, ROOT)} "
              "(write them with UNROLLED_WRITE_FIXTURES=1 npx vitest run "
              "test/model/safetensors.test.ts)", file=sys.stderr)
        return 1
    worst, failed = 0.0, []
    for fname in files:
        stem = fname[:-len(".safetensors")]
        with open(os.path.join(ST_UNROLLED_DIR, fname), "rb") as f:
            tensors, metadata = st_decode(f.read())
        with open(os.path.join(ST_UNROLLED_DIR, stem + ".json")) as f:
            fx = json.load(f)
        if metadata.get("format") != "unrolled":
            raise ValueError(f"{fname}: metadata format {metadata.get('format')!r}")
        cfg = json.loads(metadata["unrolled_config"])
        cell, L, B, T = cfg["cell"], cfg["numLayers"], fx["B"], fx["T"]
        I, H, O = cfg["inputSize"], cfg["hiddenSize"], cfg["outputSize"]
        assert cfg["input"] == "dense", "only dense-input fixtures are checked"
        bi, bias, proj = cfg.get("bidirectional", False), cfg.get("bias", True), cfg.get("projSize", 0)
        D = 2 if bi else 1
        rnn = build_rnn(cell, I, H, L, cfg["nonlinearity"], O, bi, bias, proj)
        rnn.load_state_dict(tensors, strict=True)  # raises on any missing / unexpected name
        x = torch.tensor(fx["x"]).reshape(T, B, I)
        h0 = torch.tensor(fx["h0"]).reshape(L * D, B, proj or H)
        c0 = torch.tensor(fx["c0"]).reshape(L * D, B, H) if cell == "lstm" else None
        with torch.no_grad():
            y, hN, cN = run_rnn(rnn, cell, x, h0, c0)
        errs = {"y": rel_err(fx["y"], y), "hN": rel_err(fx["hN"], hN)}
        if cell == "lstm":
            errs["cN"] = rel_err(fx["cN"], cN)
        ok = all(e <= ST_TOL for e in errs.values())
        worst = max([worst] + list(errs.values()))
        print(f"{'ok  ' if ok else 'FAIL'} {fname}: " +
              ", ".join(f"{k} {v:.3e}" for k, v in errs.items()))
        if not ok:
            failed.append(fname)
    print(f"{len(files) - len(failed)}/{len(files)} unrolled safetensors files match PyTorch "
          f"(max relative error {worst:.3e}, tolerance {ST_TOL:g})")
    return 1 if failed else 0


# ---------------------------------------------------------------------------------------------
# dropout between layers with unrolled's masks
#
# unrolled draws the masks from the model's generator (xoshiro128**, src/model/rng.ts): layer by
# layer, one uniform u = next_u32 / 2^32 per element of the layer's output [T,B,D*H] in row-major
# order, dropped when u < p, kept ones scaled by 1/(1 - p). The generator is reimplemented here so
# that PyTorch runs the very same masks; the fixture stores the generator's state.

class Xoshiro128:
    def __init__(self, state):
        self.s = [w & 0xFFFFFFFF for w in state]

    @staticmethod
    def rotl(x, k):
        return ((x << k) | (x >> (32 - k))) & 0xFFFFFFFF

    def next_u32(self):
        s = self.s
        result = (self.rotl((s[1] * 5) & 0xFFFFFFFF, 7) * 9) & 0xFFFFFFFF
        t = (s[1] << 9) & 0xFFFFFFFF
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self.rotl(s[3], 11)
        return result

    def next(self):
        return self.next_u32() / 4294967296.0


DROPOUT_CASES = [
    dict(name="dropout_lstm_l3", cell="lstm", I=5, H=7, L=3, T=6, B=3, p=0.4, bi=False, masked=True),
    dict(name="dropout_gru_bi_l2", cell="gru", I=5, H=7, L=2, T=5, B=3, p=0.3, bi=True, masked=True),
    dict(name="dropout_rnn_relu_l2", cell="rnn", nonlinearity="relu", I=3, H=5, L=2, T=4, B=2,
         p=0.5, bi=False, masked=False),
]


def run_dropout_case(cfg):
    """A stack run layer by layer (one nn module per layer) with unrolled's masks between layers;
    E = sum(wo * outputs) + sum(wh * hN); its gradients by autograd."""
    name, cell = cfg["name"], cfg["cell"]
    I, H, L, T, B, p, bi = (cfg[k] for k in ("I", "H", "L", "T", "B", "p", "bi"))
    act = cfg.get("nonlinearity", "tanh")
    D = 2 if bi else 1
    seed = zlib.crc32(name.encode()) & 0x7FFFFFFF
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 1)
    full = build_rnn(cell, I, H, L, act, 1, bi)  # one module for the parameter names and init
    with torch.no_grad():
        for prm in full.parameters():
            prm.mul_(PARAM_SCALE)
    rng_state = [int(v) for v in torch.randint(0, 2 ** 31, (4,), generator=g)]
    x = torch.randn(T, B, I, generator=g).requires_grad_(True)
    h0 = (torch.randn(L * D, B, H, generator=g) * STATE_STD).requires_grad_(True)
    c0 = (torch.randn(L * D, B, H, generator=g) * STATE_STD).requires_grad_(True) \
        if cell == "lstm" else None
    lengths = make_lengths(T, B, g) if cfg["masked"] else None
    wo = torch.randn(T, B, D * H, generator=g)
    wh = torch.randn(L * D, B, H, generator=g)
    wc = torch.randn(L * D, B, H, generator=g) if cell == "lstm" else None

    rng = Xoshiro128(rng_state)
    masks = []
    inp = x
    hNs, cNs = [], []
    sd = dict(full.named_parameters())
    for k in range(L):
        layer = build_rnn(cell, I if k == 0 else D * H, H, 1, act, 1, bi)
        for d in range(D):
            sfx = "_reverse" if d else ""
            for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                setattr(layer, f"{kind}_l0{sfx}", sd[f"{kind}_l{k}{sfx}"])  # shared: grads flow to sd
        state_h = h0[k * D:(k + 1) * D]
        state = (state_h, c0[k * D:(k + 1) * D]) if cell == "lstm" else state_h
        if lengths is not None:
            packed = pack_padded_sequence(inp, lengths, enforce_sorted=False)
            out_p, st = layer(packed, state)
            out, _ = pad_packed_sequence(out_p, total_length=T, padding_value=0.0)
        else:
            out, st = layer(inp, state)
        hN, cN = (st if cell == "lstm" else (st, None))
        hNs.append(hN)
        if cN is not None:
            cNs.append(cN)
        if k + 1 < L:
            m = torch.tensor([0.0 if rng.next() < p else 1.0 / (1.0 - p) for _ in range(T * B * D * H)])
            m = m.reshape(T, B, D * H)
            masks.append(m)
            # unrolled's forward direction carries its state through padded steps and drops that
            # carried value; the next layer treats those steps as padding, so they do not matter
            inp = out * m
        else:
            top = out
    hN = torch.cat(hNs, 0)
    cN = torch.cat(cNs, 0) if cNs else None
    E = (wo * top).sum() + (wh * hN).sum()
    if cN is not None:
        E = E + (wc * cN).sum()
    E.backward()
    params, grads = {}, {}
    for k2, v in full.named_parameters():
        if k2.startswith("head."):
            continue
        params[k2] = flat(v)
        grads[k2] = flat(v.grad)
    grads["h0"] = flat(h0.grad)
    if c0 is not None:
        grads["c0"] = flat(c0.grad)
    grads["x"] = flat(x.grad)
    return {
        "name": name,
        "config": {"cell": cell, "nonlinearity": act, "inputSize": I, "hiddenSize": H,
                   "numLayers": L, "T": T, "B": B, "dropout": p, "bidirectional": bi},
        "rngState": rng_state,
        "params": params,
        "x": flat(x), "h0": flat(h0), "c0": flat(c0) if c0 is not None else None,
        "lengths": flat_int(lengths) if lengths is not None else None,
        "dOutputs": flat(wo), "dhN": flat(wh), "dcN": flat(wc) if wc is not None else None,
        "outputs": flat(top), "hN": flat(hN), "cN": flat(cN) if cN is not None else None,
        "grads": grads,
    }


def write_dropout_fixtures():
    out_dir = os.path.join(OUT_DIR, "dropout")
    os.makedirs(out_dir, exist_ok=True)
    for cfg in DROPOUT_CASES:
        with open(os.path.join(out_dir, cfg["name"] + ".json"), "w") as f:
            json.dump(run_dropout_case(cfg), f, separators=(",", ":"))
            f.write("\n")
    print(f"wrote {len(DROPOUT_CASES)} dropout fixtures to {os.path.relpath(out_dir, ROOT)}",
          file=sys.stderr)


def write_cases(cases):
    os.makedirs(OUT_DIR, exist_ok=True)
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    for cfg in cases:
        data = run_case(cfg)
        path = os.path.join(OUT_DIR, cfg["name"] + ".json")
        with open(path, "w") as f:
            json.dump(data, f, separators=(",", ":"))
            f.write("\n")
    print(f"wrote {len(cases)} fixtures to {os.path.relpath(OUT_DIR, ROOT)}", file=sys.stderr)

# ---------------------------------------------------------------------------------------------
# optimizer state in the layout of optimizer.state_dict()
#
# A module from build_rnn (head registered as a submodule, so parameters() is the recurrent
# weights then head.weight, head.bias) takes S steps of a torch optimizer on S batches (MSE at
# every step, mean). optimizer/<name>.safetensors holds the weights before (their state_dict
# names), the batches (batch.x [S,T,B,I], batch.y [S,T,B,O]), the weights after (after.<name>) and
# the optimizer's state_dict (state.<i>.<key>, step as a 0-d F64 tensor; the param groups, with
# `param_names` from named_parameters(), as JSON in the metadata): the form unrolled's
# torchOptimizerStateToSafetensors writes (src/train/torch-optimizer.ts).

OPTIMIZER_CASES = [
    dict(name="adam_lstm_proj_bidirectional", cell="lstm", I=3, H=5, O=2, L=2, T=4, B=3, S=3,
         bidirectional=True, projSize=2, opt="adam", kw=dict(lr=0.01, betas=(0.8, 0.99), eps=1e-7)),
    dict(name="adamw_gru_bidirectional_nobias", cell="gru", I=3, H=5, O=2, L=2, T=4, B=3, S=3,
         bidirectional=True, bias=False, opt="adamw", kw=dict(lr=0.02, weight_decay=0.05)),
    dict(name="sgd_rnn_nesterov", cell="rnn", I=3, H=5, O=2, L=2, T=4, B=3, S=3,
         opt="sgd", kw=dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
]
OPTIMIZER_DIR = os.path.join(OUT_DIR, "optimizer")


def write_optimizer_fixtures():
    os.makedirs(OPTIMIZER_DIR, exist_ok=True)
    classes = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
    for cfg in OPTIMIZER_CASES:
        name, cell = cfg["name"], cfg["cell"]
        I, H, O, L, T, B, S = (cfg[k] for k in ("I", "H", "O", "L", "T", "B", "S"))
        seed = zlib.crc32(("optimizer_" + name).encode()) & 0x7FFFFFFF
        torch.manual_seed(seed)
        g = torch.Generator().manual_seed(seed + 1)
        bi, bias, proj = cfg.get("bidirectional", False), cfg.get("bias", True), cfg.get("projSize", 0)
        rnn = build_rnn(cell, I, H, L, "tanh", O, bi, bias, proj)
        with torch.no_grad():
            for p in rnn.parameters():
                p.mul_(PARAM_SCALE)
                p.copy_(f32(p))
        before = [(k, v.clone()) for k, v in rnn.state_dict().items()]
        x = f32(torch.randn(S, T, B, I, generator=g))
        y = f32(torch.randn(S, T, B, O, generator=g))
        named = list(rnn.named_parameters())
        opt = classes[cfg["opt"]]([p for _, p in named], **cfg["kw"])
        losses = []
        for s in range(S):
            opt.zero_grad()
            out, _ = rnn(x[s])
            loss = F.mse_loss(rnn.head(out), y[s])
            loss.backward()
            opt.step()
            losses.append(loss.item())
        sd = opt.state_dict()
        tensors = list(before) + [("batch.x", x), ("batch.y", y)]
        tensors += [("after." + k, v) for k, v in rnn.state_dict().items()]
        for i, entry in sorted(sd["state"].items()):
            for key, v in entry.items():
                if v is not None:
                    tensors.append((f"state.{i}.{key}", v.to(torch.float64).reshape(v.shape)))
        groups = [dict(gr, param_names=[n for n, _ in named]) for gr in sd["param_groups"]]
        meta = {"format": "torch-optimizer-state", "param_groups": json.dumps(groups),
                "config": json.dumps({"cell": cell, "inputSize": I, "hiddenSize": H, "outputSize": O,
                                      "numLayers": L, "bidirectional": bi, "bias": bias,
                                      "projSize": proj}),
                "optimizer": json.dumps({"name": cfg["opt"], **cfg["kw"]}),
                "losses": json.dumps(losses)}
        with open(os.path.join(OPTIMIZER_DIR, name + ".safetensors"), "wb") as f:
            f.write(st_encode(tensors, meta))
    print(f"wrote {len(OPTIMIZER_CASES)} optimizer fixtures to "
          f"{os.path.relpath(OPTIMIZER_DIR, ROOT)}", file=sys.stderr)


def main():
    args = sys.argv[1:]
    if args == ["--check-unrolled"]:
        sys.exit(check_unrolled_safetensors())
    if args == ["--safetensors-only"]:
        write_torch_safetensors()
        return
    if args == ["--dropout-only"]:
        write_dropout_fixtures()
        return
    if args == ["--module-only"]:
        write_torch_module_safetensors()
        return
    if args == ["--class-weights-only"]:
        write_cases(build_class_weight_cases())
        return
    if args == ["--optimizer-only"]:
        write_optimizer_fixtures()
        return
    if args:
        print("usage: make_torch_fixtures.py [--safetensors-only | --dropout-only | --class-weights-only | --module-only | --optimizer-only | --check-unrolled]",
              file=sys.stderr)
        sys.exit(2)
    write_cases(build_cases() + build_layer_cases() + build_class_weight_cases())
    write_torch_safetensors()
    write_torch_module_safetensors()
    write_dropout_fixtures()
    write_optimizer_fixtures()


if __name__ == "__main__":
    main()
