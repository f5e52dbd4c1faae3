"""Continue an unrolled training run in PyTorch with DistributedDataParallel, then hand it back.

Started by handover.mjs as

    python3 -m torch.distributed.run --standalone --nproc_per_node=2 train_ddp.py DIR

(`torchrun` is the same program). DIR holds what unrolled wrote: handover.json (the model and
optimizer settings and the number of steps), weights.safetensors (the parameters under their
PyTorch state_dict names), optimizer.safetensors (the Adam state in the layout of
optimizer.state_dict(): tensors state.<i>.step / exp_avg / exp_avg_sq, the param groups as JSON
in the metadata) and batches.safetensors (x [M, T, B, I] and y [M, T, B, O], time-major). Each of
the two processes (gloo, CPU) takes its half of every batch; the loss is a mean and DDP averages
the gradients, so each update is the full batch's. Rank 0 writes weights-torch.safetensors,
optimizer-torch.safetensors and torch-losses.json (the full-batch loss of every step) for
unrolled to import. Needs only torch: the safetensors format is read and written here.
"""
import json
import os
import struct
import sys

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP

DTYPES = {"F32": torch.float32, "F64": torch.float64}


def read_safetensors(path):
    """The tensors and metadata of a safetensors file: an 8-byte little-endian header length, a
    JSON header { name: { dtype, shape, data_offsets }, "__metadata__": {...} }, then the data."""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n])
    metadata = header.pop("__metadata__", {})
    data = buf[8 + n:]
    tensors = {}
    for name, h in header.items():
        begin, end = h["data_offsets"]
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=DTYPES[h["dtype"]])
        tensors[name] = t.reshape(h["shape"])
    return tensors, metadata


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    chunks, at = [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        raw = t.numpy().tobytes()
        dtype = {torch.float32: "F32", torch.float64: "F64"}[t.dtype]
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [at, at + len(raw)]}
        chunks.append(raw)
        at += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-(8 + len(text)) % 8)  # the data starts 8-byte aligned
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))
    os.replace(tmp, path)


def optimizer_state_from_file(tensors, metadata):
    """optimizer.state_dict() from the file: state[i] = {step, exp_avg, exp_avg_sq}."""
    if metadata.get("format") != "torch-optimizer-state":
        raise ValueError("optimizer.safetensors: not a torch-optimizer-state file")
    state = {}
    for name, t in tensors.items():
        _, i, key = name.split(".")
        # PyTorch 1.13's Adam keeps step as a float32 0-d tensor
        state.setdefault(int(i), {})[key] = t.to(torch.float32) if key == "step" else t
    groups = json.loads(metadata["param_groups"])
    for g in groups:
        if "betas" in g:
            g["betas"] = tuple(g["betas"])
    return {"state": state, "param_groups": groups}


def optimizer_state_to_file(path, sd, names):
    tensors = {}
    for i, entry in sorted(sd["state"].items()):
        for key, v in entry.items():
            if v is None:
                continue
            tensors[f"state.{i}.{key}"] = v.to(torch.float64) if key == "step" else v
    groups = [dict(g, param_names=names) for g in sd["param_groups"]]
    write_safetensors(path, tensors, {"format": "torch-optimizer-state", "param_groups": json.dumps(groups)})


class Net(nn.Module):
    """unrolled's model: the recurrent stack, then a Linear head at every step."""

    def __init__(self, cfg):
        super().__init__()
        cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cfg["cell"]]
        kw = {"nonlinearity": cfg["nonlinearity"]} if cfg["cell"] == "rnn" else {}
        self.rnn = cls(cfg["inputSize"], cfg["hiddenSize"], num_layers=cfg["numLayers"], **kw)
        self.head = nn.Linear(cfg["hiddenSize"], cfg["outputSize"])

    def forward(self, x):
        return self.head(self.rnn(x)[0])

    def parameter(self, name):
        """The parameter under unrolled's (the unprefixed state_dict) name."""
        return getattr(self.head, name[5:]) if name.startswith("head.") else getattr(self.rnn, name)


def main():
    folder = sys.argv[1]
    torch.set_num_threads(1)  # one core per process
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    with open(os.path.join(folder, "handover.json")) as f:
        run = json.load(f)
    cfg = run["config"]
    net = Net(cfg)
    weights, _ = read_safetensors(os.path.join(folder, "weights.safetensors"))
    with torch.no_grad():
        for name, t in weights.items():
            net.parameter(name).copy_(t)
    opt_tensors, opt_meta = read_safetensors(os.path.join(folder, "optimizer.safetensors"))
    sd = optimizer_state_from_file(opt_tensors, opt_meta)
    # the optimizer's parameters in the order of the file's indices, by name
    names = sd["param_groups"][0].pop("param_names")
    params = [net.parameter(n) for n in names]
    ddp = DDP(net)
    o = run["optimizer"]
    opt = torch.optim.Adam(params, lr=o["lr"], betas=tuple(o["betas"]), eps=o["eps"])
    opt.load_state_dict(sd)

    batches, _ = read_safetensors(os.path.join(folder, "batches.safetensors"))
    x_all, y_all = batches["x"], batches["y"]
    M, B = x_all.shape[0], x_all.shape[2]
    lo, hi = rank * B // world, (rank + 1) * B // world
    losses = []
    for m in range(M):
        x, y = x_all[m, :, lo:hi], y_all[m, :, lo:hi]
        loss = nn.functional.mse_loss(ddp(x), y)  # mean over this rank's elements
        opt.zero_grad()
        loss.backward()  # DDP averages the two halves' gradients: the full batch's gradient
        nn.utils.clip_grad_norm_(params, run["clipNorm"])
        opt.step()
        full = loss.detach().clone()
        dist.all_reduce(full)  # the mean of two equal halves' means is the full batch's mean
        losses.append(full.item() / world)
        if rank == 0:
            print(f"torch rank 0/{world}: step {run['startStep'] + m + 1} loss {losses[-1]:.6f}", flush=True)

    if rank == 0:
        write_safetensors(
            os.path.join(folder, "weights-torch.safetensors"),
            {n: net.parameter(n) for n in weights},
            {"format": "pt"},
        )
        optimizer_state_to_file(os.path.join(folder, "optimizer-torch.safetensors"), opt.state_dict(), names)
        with open(os.path.join(folder, "torch-losses.json"), "w") as f:
            json.dump({"losses": losses, "worldSize": world, "torch": torch.__version__}, f)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
