#!/usr/bin/python3
"""One full training run of valemb's GPT in PyTorch, for the framework check of issue 16: the same
initial weights (written by src/model), the same batches in the same order (src/data's loader), the
same validation set, schedule and optimizer (Adam + Muon as bench/torch_worker.py), and a run folder
in valemb's own format (log.txt, evals.jsonl with the learned scalars, meta.json) so the analysis
reads it like any of our runs.  argv: <job json file>  (written by bench/torch-runs.ts).
"""
import datetime, json, os, sys, time
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "reference"))
sys.path.insert(0, HERE)
import gpt_reference as ref  # noqa: E402
from torch_worker import StackedMuon, lr_factor  # noqa: E402


def read_batches(file, B, T):
    tokens = np.fromfile(file, dtype="<i4").reshape(-1, 2, B, T)
    return [(torch.tensor(b[0], dtype=torch.int64), torch.tensor(b[1], dtype=torch.int64)) for b in tokens]


def learned_scalars(s, cfg):
    """The same families and nulls as GPT.learnedScalars in src/model/gpt.ts."""
    L = cfg["nLayer"]
    s = [float(x) for x in s.detach()]
    slots = ref.layout_slots(cfg)
    attn = [i not in cfg["noAttention"] for i in range(L)]
    sources = {k["from"] for k in cfg["skips"]}
    r = lambda x: round(x, 6)
    return dict(
        lambda_ve=[r(s[3 * L + 2 * i + 1]) if slots[i] is not None and attn[i] else None for i in range(L)],
        lambda_v=[r(s[3 * L + 2 * i]) if attn[i] else None for i in range(L)],
        lambda_x=[r(s[L + 2 * i]) for i in range(L)],
        lambda_x0=[r(s[L + 2 * i + 1]) for i in range(L)],
        skip_w=[r(s[i]) if i in sources else None for i in range(L)],
    )


def main():
    job = json.load(open(sys.argv[1]))
    cfg, tr, out = job["config"], job["train"], job["out"]
    B, T, steps, every = tr["batchSize"], cfg["seqLen"], job["steps"], tr["evalEvery"]
    torch.manual_seed(0)  # nothing here draws random numbers; fixed anyway
    torch.set_num_threads(job["threads"])
    manifest = json.load(open(job["weights"] + ".json"))
    blob = np.fromfile(job["weights"] + ".bin", dtype="<f4")
    W = {n: torch.tensor(blob[m["offset"]:m["offset"] + int(np.prod(m["shape"]))].reshape(m["shape"]).copy()).requires_grad_(True)
         for n, m in manifest.items()}
    train_batches = read_batches(job["trainBatches"], B, T)
    val_batches = read_batches(job["valBatches"], B, T)
    assert len(train_batches) == steps, f"{len(train_batches)} train batches for {steps} steps"
    mult = tr["lrMult"]
    groups = [dict(params=[W["lm_head_w"]], lr=1 / 320 * mult),
              dict(params=[W[n] for n in W if n == "embed" or n.startswith("value_embeds")], lr=0.3 * mult),
              dict(params=[W["scalars"]], lr=0.015 * mult)]
    adam = torch.optim.Adam(groups, betas=(0.8, 0.95), eps=1e-10, weight_decay=0.0, foreach=True)
    base_lrs = [g["lr"] for g in adam.param_groups]
    muon = StackedMuon({n: p for n, p in W.items() if n.startswith("blocks.")})

    os.makedirs(out, exist_ok=True)
    meta = dict(run=os.path.basename(out), preset=job["preset"], layout=cfg["layout"], seed=job["seed"], steps=steps, config=cfg,
                train=tr, framework="pytorch", threads=torch.get_num_threads(),
                versions=dict(torch=torch.__version__, python=sys.version.split()[0], numpy=np.__version__),
                initialWeights="src/model GPT(config, seed), written by bench/torch-runs.ts", data=job["data"],
                started=datetime.datetime.now(datetime.timezone.utc).isoformat(), finished=None)
    write_meta = lambda: open(os.path.join(out, "meta.json"), "w").write(json.dumps(meta, indent=2) + "\n")
    write_meta()
    log, evals = open(os.path.join(out, "log.txt"), "w"), open(os.path.join(out, "evals.jsonl"), "w")
    train_ms = 0.0

    def evaluate(step):
        with torch.no_grad():
            loss = sum(ref.forward(W, x, y, cfg).item() for x, y in val_batches) / len(val_batches)
        avg = f"{train_ms / max(step, 1):.2f}"
        log.write(f"step:{step}/{steps} val_loss:{loss:.6f} train_time:{round(train_ms)}ms step_avg:{avg}ms\n"); log.flush()
        evals.write(json.dumps(dict(step=step, total_steps=steps, val_loss=round(loss, 6), train_time_ms=round(train_ms),
                                    step_avg_ms=float(avg), scalars=learned_scalars(W["scalars"], cfg))) + "\n"); evals.flush()
        return loss

    last = evaluate(0)
    for step in range(steps):
        x, y = train_batches[step]
        t0 = time.perf_counter()
        for p in W.values():
            p.grad = None
        loss = ref.forward(W, x, y, cfg)
        loss.backward()
        f = lr_factor(step, steps, tr["cooldownFrac"])
        for g, lr in zip(adam.param_groups, base_lrs):
            g["lr"] = lr * f
        adam.step()
        muon.step(step, f * mult)
        value = loss.item()
        train_ms += (time.perf_counter() - t0) * 1000
        if not np.isfinite(value):
            raise SystemExit(f"training diverged: loss {value} at step {step + 1}")
        log.write(f"step:{step + 1}/{steps} train_time:{round(train_ms)}ms step_avg:{train_ms / (step + 1):.2f}ms\n")
        if (step + 1) % every == 0 or step + 1 == steps:
            last = evaluate(step + 1)
    meta["result"] = dict(finalValLoss=round(last, 6), trainTimeMs=round(train_ms), stepAvgMs=round(train_ms / steps, 2))
    meta["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
    write_meta()
    print(json.dumps(dict(out=out, finalValLoss=round(last, 6), trainTimeMs=round(train_ms))))


if __name__ == "__main__":
    main()
