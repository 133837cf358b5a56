#!/usr/bin/env python3
"""The PyTorch side of bench/train-vs-torch.ts: the same GPT (test/reference/gpt_reference.py's
forward), the same weights (written by the tfjs side), data, batch and optimizer (Adam for head,
embeddings and scalars; Muon with NS5 on matrices stacked by shape, as src/optim does), driven over
stdin/stdout JSON lines.  argv: <config json file> <threads> <data file> <weights prefix>.
Commands: {"cmd":"train","steps":n}, {"cmd":"matmul","n":1024,"reps":5}, {"cmd":"stats"}, {"cmd":"quit"}.
"""
import json, os, resource, sys, time
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "reference"))
import gpt_reference as ref  # noqa: E402


def lr_factor(step, total, cooldown=0.7):
    x = step / total
    return 1.0 if x < 1 - cooldown else max(0.0, (1 - x) / cooldown)


class StackedMuon:
    """Muon as src/optim/muon.ts: one momentum buffer and one batched NS5 per (wide) matrix shape."""

    def __init__(self, named, lr=0.025, wd=0.01, mlp_wd_mul=2.0):
        self.lr, self.wd, self.mlp_wd_mul = lr, wd, mlp_wd_mul
        groups = {}
        for n, p in named.items():
            rows, cols = p.shape[-2], p.shape[-1]
            key = (min(rows, cols), max(rows, cols))
            groups.setdefault(key, []).append((n, p, rows > cols))
        self.groups = [(members, torch.zeros(sum(p.numel() // (p.shape[-1] * p.shape[-2]) for _, p, _ in members), *key))
                       for key, members in groups.items()]

    @torch.no_grad()
    def step(self, step, factor):
        lr = self.lr * factor
        frac = min(step / 300, 1)
        m = (1 - frac) * 0.85 + frac * 0.95
        for members, buf in self.groups:
            parts = [(p.grad.mT if tall else p.grad).reshape(-1, *buf.shape[1:]) for _, p, tall in members]
            G = torch.cat(parts) if len(parts) > 1 else parts[0]
            buf.mul_(m).add_(G, alpha=1 - m)
            U = ref.zeropower_via_newtonschulz5(m * buf + (1 - m) * G)
            o = 0
            for n, p, tall in members:
                count = p.numel() // (p.shape[-1] * p.shape[-2])
                u = U[o:o + count]
                o += count
                u = (u.mT if tall else u).reshape(p.shape)
                wd_mul = self.mlp_wd_mul if ".mlp." in n else 1.0
                p.mul_(1 - lr * self.wd * wd_mul)
                p.add_(u, alpha=-lr * max(1, p.size(-2) / p.size(-1)) ** 0.5)


def loaded_blas():
    """The BLAS shared objects this process mapped (resolved through the alternatives symlinks)."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            if "blas" in os.path.basename(path).lower():
                libs.add(os.path.realpath(path))
    return sorted(libs)


def main():
    cfg_file, threads, data_file, weights = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    bench = json.load(open(cfg_file))
    cfg, B = bench["model"], bench["batch"]
    T = cfg["seqLen"]
    torch.set_num_threads(threads)
    manifest = json.load(open(weights + ".json"))
    blob = np.fromfile(weights + ".bin", dtype="<f4")
    W = {n: torch.tensor(blob[m["offset"]:m["offset"] + int(np.prod(m["shape"]))].reshape(m["shape"])).requires_grad_(True)
         for n, m in manifest.items()}
    tokens = np.fromfile(data_file, dtype="<i4").reshape(-1, 2, B, T)
    batches = [(torch.tensor(b[0], dtype=torch.int64), torch.tensor(b[1], dtype=torch.int64)) for b in tokens]
    groups = [dict(params=[W["lm_head_w"]], lr=1 / 320),
              dict(params=[W[n] for n in W if n == "embed" or n.startswith("value_embeds")], lr=0.3),
              dict(params=[W["scalars"]], lr=0.015)]
    adam = torch.optim.Adam(groups, betas=(0.8, 0.95), eps=1e-10, weight_decay=0.0, foreach=True)
    base_lrs = [g["lr"] for g in adam.param_groups]
    muon = StackedMuon({n: p for n, p in W.items() if n.startswith("blocks.")})
    torch.ones(64, 64) @ torch.ones(64, 64)  # loads the BLAS
    reply = lambda o: (sys.stdout.write(json.dumps(o) + "\n"), sys.stdout.flush())
    # pip's torch 2.x links MKL into libtorch_cpu (no separate BLAS library to find in the maps)
    blas = ["MKL (in libtorch_cpu)"] if torch.backends.mkl.is_available() else loaded_blas()
    reply(dict(ready=True, torch=torch.__version__, threads=torch.get_num_threads(), blas=blas,
               openblas_threads=os.environ.get("OPENBLAS_NUM_THREADS"), ld_library_path=os.environ.get("LD_LIBRARY_PATH"),
               params=sum(p.numel() for p in W.values())))
    step = 0
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["cmd"] == "train":
            ms, losses = [], []
            for _ in range(msg["steps"]):
                x, y = batches[step % len(batches)]
                t0 = time.perf_counter()
                for p in W.values():
                    p.grad = None
                loss = ref.forward(W, x, y, cfg)
                loss.backward()
                f = lr_factor(step, 100_000)
                for g, lr in zip(adam.param_groups, base_lrs):
                    g["lr"] = lr * f
                adam.step()
                muon.step(step, f)
                losses.append(loss.item())
                ms.append((time.perf_counter() - t0) * 1000)
                step += 1
            reply(dict(ms=ms, losses=losses))
        elif msg["cmd"] == "matmul":
            n = msg["n"]
            a, b = torch.randn(n, n), torch.randn(n, n)
            ms = []
            for _ in range(msg["reps"] + 1):
                t0 = time.perf_counter()
                a @ b
                ms.append((time.perf_counter() - t0) * 1000)
            reply(dict(ms=ms[1:]))
        elif msg["cmd"] == "stats":
            reply(dict(peakRssMB=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
        elif msg["cmd"] == "quit":
            break


if __name__ == "__main__":
    main()
