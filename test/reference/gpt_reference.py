#!/usr/bin/python3
"""PyTorch reference for valemb's GPT and optimizers (parity goldens).

Regenerate the goldens (Debian python3 + python3-torch, CPU, float32):

    npm run goldens        # = /usr/bin/python3 test/reference/gpt_reference.py

Writes test/reference/goldens.json, read by test/model/parity.test.ts. The model is the `smoke`
preset of src/model/config.ts, written independently of the TypeScript in the style of the
speedrun's train_gpt_medium.py (Aug 2025). Weights and batch come from a tiny hash both sides
implement (see `hash_uniform`), so nothing but the goldens has to be committed. Differences from the
speedrun, on both sides: float32 everywhere (no bf16), [B, T] batches, token-level sliding windows.
"""
import json, math, os, sys
import numpy as np
import torch
import torch.nn.functional as F

CFG = dict(vocabSize=512, vocabMultiple=128, nLayer=16, dim=32, nHead=2, headDim=16, mlpRatio=4,
           noAttention=[7], skips=[dict(to=9, **{"from": 6}), dict(to=10, **{"from": 4}), dict(to=11, **{"from": 2})],
           softcap=15, attnScale=0.12, seqLen=32, windows=dict(long=32, short=16, longBlocks=[0, 4, 11, 15]),
           eotToken=511, layout="012..........012")
SEED = 1234
B, T = 2, 32
TOTAL_STEPS = 4  # short, so the 4 steps cover the constant phase and the cooldown
M32 = 0xFFFFFFFF


# ------------------------------------------------------------------------------------------
# The shared deterministic values: fmix32 (murmur3's finalizer) over a counter, per name.

def fmix32(h):
    u = np.uint64
    h = np.asarray(h, dtype=u) & u(M32)
    h = ((h ^ (h >> u(16))) * u(0x85EBCA6B)) & u(M32)
    h = ((h ^ (h >> u(13))) * u(0xC2B2AE35)) & u(M32)
    return (h ^ (h >> u(16))) & u(M32)


def hash32(text, seed):
    h = (seed ^ 0x9E3779B9) & M32
    for ch in text:
        h = ((h ^ ord(ch)) * 0x85EBCA6B) & M32
    return int(fmix32(h))


def hash_uniform(name, n, seed=SEED):
    """n floats in [-1, 1): (2u - 1), u = fmix32(i·0x9E3779B1 + hash32(name)) / 2^32, as float64."""
    i = np.arange(n, dtype=np.uint64)
    u = fmix32((i * np.uint64(0x9E3779B1) + np.uint64(hash32(name, seed))) & np.uint64(M32)).astype(np.float64) / 4294967296.0
    return 2 * u - 1


# Every model function takes the config (default: the smoke preset of the goldens), so bench/ can
# build the same model for any config.

def padded_vocab(cfg=CFG):
    m = cfg["vocabMultiple"]
    return (cfg["vocabSize"] + m - 1) // m * m


def layout_slots(cfg=CFG):
    ids = sorted({c for c in cfg["layout"] if c != "."})
    return [None if c == "." else ids.index(c) for c in cfg["layout"]]


def param_shapes(cfg=CFG):
    L, D, H, hd = cfg["nLayer"], cfg["dim"], cfg["nHead"], cfg["headDim"]
    hdim, mlp = H * hd, cfg["mlpRatio"] * D
    shapes = {"embed": [cfg["vocabSize"], D]}
    for t in range(len({s for s in layout_slots(cfg) if s is not None})):
        shapes[f"value_embeds.{t}"] = [cfg["vocabSize"], D]
    for i in range(L):
        if i not in cfg["noAttention"]:
            shapes[f"blocks.{i}.attn.qkv_w"] = [3, hdim, D]
            shapes[f"blocks.{i}.attn.o_w"] = [D, hdim]
        shapes[f"blocks.{i}.mlp.fc_w"] = [mlp, D]
        shapes[f"blocks.{i}.mlp.proj_w"] = [D, mlp]
    shapes["lm_head_w"] = [padded_vocab(cfg), D]
    shapes["scalars"] = [5 * L]
    return shapes


def parity_weights():
    """Every tensor non-zero (the speedrun's zero-init head and projections would give zero gradients)."""
    L = CFG["nLayer"]
    out = {}
    for name, shape in param_shapes().items():
        n = int(np.prod(shape))
        u = hash_uniform(name, n)
        if name == "scalars":
            base = np.concatenate([np.ones(L), np.tile([1.0, 0.0], L), np.tile([0.5, 0.5], L)])
            v = base + 0.2 * u
        elif name.startswith("embed") or name.startswith("value_embeds"):
            v = math.sqrt(3) * u  # unit variance
        else:
            v = math.sqrt(3) * 0.5 * shape[-1] ** -0.5 * u
        out[name] = torch.tensor(v.astype(np.float32).reshape(shape))
    return out


def parity_batch():
    V, eot = CFG["vocabSize"], CFG["eotToken"]
    toks = (((hash_uniform("batch", B * (T + 1)) + 1) / 2 * (V - 1)).astype(np.int64) % (V - 1)).reshape(B, T + 1)
    toks[0, 0] = eot; toks[0, 11] = eot  # documents start at their EOT token
    toks[1, 5] = eot; toks[1, 20] = eot; toks[1, 21] = eot
    return torch.tensor(toks[:, :-1]), torch.tensor(toks[:, 1:])


# ------------------------------------------------------------------------------------------
# The model, speedrun style

def norm(x):
    return x * torch.rsqrt(x.square().mean(-1, keepdim=True) + torch.finfo(x.dtype).eps)


def rotary_tables(hd, T):
    freq = (1 / 1024) ** torch.linspace(0, 1, steps=hd // 4, dtype=torch.float32)
    freq = torch.cat([freq, freq.new_zeros(hd // 4)])
    theta = torch.outer(torch.arange(T, dtype=torch.float32), freq)
    return theta.cos(), theta.sin()


def rotary(x_BTHD, cos, sin):
    cos, sin = cos[None, :, None, :], sin[None, :, None, :]
    x1, x2 = x_BTHD.chunk(2, dim=-1)
    return torch.cat((x1 * cos + x2 * sin, x1 * (-sin) + x2 * cos), 3)


def masks(tokens, cfg=CFG):
    T = tokens.shape[1]
    eot = cfg["eotToken"]
    docs = (tokens == eot).cumsum(1) if eot is not None else torch.zeros_like(tokens)  # [B, T]
    q = torch.arange(T)[:, None]
    k = torch.arange(T)[None, :]
    same_doc = docs[:, :, None] == docs[:, None, :]
    def mask(window):
        return ((k <= q) & (q - k < window))[None] & same_doc  # [B, T, T]
    return {w: mask(w) for w in (cfg["windows"]["long"], cfg["windows"]["short"])}


def forward(W, inputs, targets, cfg=CFG):
    L, D, H, hd = cfg["nLayer"], cfg["dim"], cfg["nHead"], cfg["headDim"]
    B, T = inputs.shape
    s = W["scalars"]
    skip_w, lambdas, sa_lambdas = s[:L], s[L:3 * L].view(-1, 2), s[3 * L:5 * L].view(-1, 2)
    slots = layout_slots(cfg)
    cos, sin = rotary_tables(hd, T)
    mk = masks(inputs, cfg)
    ve = [F.embedding(inputs, W[f"value_embeds.{t}"]) for t in range(len({x for x in slots if x is not None}))]
    x = x0 = norm(F.embedding(inputs, W["embed"]))
    skip_map = {sk["to"]: sk["from"] for sk in cfg["skips"]}
    outs = []
    for i in range(L):
        if i in skip_map:
            x = x + skip_w[skip_map[i]] * outs[skip_map[i]]
        x = lambdas[i][0] * x + lambdas[i][1] * x0
        if i not in cfg["noAttention"]:
            q, k, v = F.linear(x, W[f"blocks.{i}.attn.qkv_w"].flatten(end_dim=1)).view(B, T, 3 * H, hd).chunk(3, dim=-2)
            q, k, v = norm(q), norm(k), norm(v)
            q, k = rotary(q, cos, sin), rotary(k, cos, sin)
            if slots[i] is not None:
                v = sa_lambdas[i][0] * v + sa_lambdas[i][1] * ve[slots[i]].view_as(v)
            else:
                v = sa_lambdas[i][0] * v
            window = cfg["windows"]["long"] if i in cfg["windows"]["longBlocks"] else cfg["windows"]["short"]
            att = (q.transpose(1, 2) @ k.transpose(1, 2).transpose(-1, -2)) * cfg["attnScale"]
            att = att.masked_fill(~mk[window][:, None], float("-inf"))
            y = (att.softmax(-1) @ v.transpose(1, 2)).transpose(1, 2).reshape(B, T, H * hd)
            x = x + F.linear(y, W[f"blocks.{i}.attn.o_w"])
        h = F.relu(F.linear(norm(x), W[f"blocks.{i}.mlp.fc_w"])).square()
        x = x + F.linear(h, W[f"blocks.{i}.mlp.proj_w"])
        outs.append(x)
    logits = F.linear(norm(x).flatten(end_dim=1), W["lm_head_w"])
    c = cfg["softcap"]
    return F.cross_entropy(c * logits * torch.rsqrt(logits.square() + c * c), targets.reshape(-1))


# ------------------------------------------------------------------------------------------
# Optimizers: torch's own Adam, and Muon as in the speedrun (float32 instead of bfloat16)

def zeropower_via_newtonschulz5(G):
    X = G
    if G.size(-2) > G.size(-1):
        X = X.mT
    X = X / (X.norm(dim=(-2, -1), keepdim=True) + 1e-7)
    for a, b, c in [(4.0848, -6.8946, 2.9270), (3.9505, -6.3029, 2.6377), (3.7418, -5.5913, 2.3037),
                    (2.8769, -3.1427, 1.2046), (2.8366, -3.0525, 1.2012)]:
        A = X @ X.mT
        B_ = b * A + c * A @ A
        X = a * X + B_ @ X
    if G.size(-2) > G.size(-1):
        X = X.mT
    return X


def get_lr(step, cooldown_frac=0.7):
    x = step / TOTAL_STEPS
    return 1.0 if x < 1 - cooldown_frac else (1 - x) / cooldown_frac


class Muon:
    def __init__(self, params, lr=0.025, weight_decay=0.01):
        self.params, self.lr, self.wd = params, lr, weight_decay
        self.buf = {n: torch.zeros_like(p) for n, p in params.items()}

    @torch.no_grad()
    def step(self, step):
        lr = self.lr * get_lr(step)
        frac = min(step / 300, 1)
        m = (1 - frac) * 0.85 + frac * 0.95
        for n, p in self.params.items():
            g = p.grad
            self.buf[n].copy_(m * self.buf[n] + (1 - m) * g)
            v = zeropower_via_newtonschulz5(m * self.buf[n] + (1 - m) * g)
            wd_mul = 2.0 if ".mlp." in n else 1.0
            p.mul_(1 - lr * self.wd * wd_mul)
            p.add_(v, alpha=-lr * max(1, p.size(-2) / p.size(-1)) ** 0.5)


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    W = {n: t.requires_grad_(True) for n, t in parity_weights().items()}
    inputs, targets = parity_batch()
    hidden = {n: p for n, p in W.items() if n.startswith("blocks.")}
    groups = [dict(params=[W["lm_head_w"]], lr=1 / 320),
              dict(params=[W[n] for n in W if n == "embed" or n.startswith("value_embeds")], lr=0.3),
              dict(params=[W["scalars"]], lr=0.015)]
    adam = torch.optim.Adam(groups, betas=(0.8, 0.95), eps=1e-10, weight_decay=0.0)
    for g in adam.param_groups:
        g["initial_lr"] = g["lr"]
    muon = Muon(hidden)

    gold = dict(config=CFG, seed=SEED, batch=dict(inputs=inputs.tolist(), targets=targets.tolist()),
                totalSteps=TOTAL_STEPS, losses=[], torch=torch.__version__)
    watched = ["embed", "value_embeds.0", "value_embeds.2", "blocks.0.attn.qkv_w", "blocks.3.attn.o_w",
               "blocks.5.mlp.fc_w", "blocks.15.mlp.proj_w", "lm_head_w", "scalars"]
    L = CFG["nLayer"]
    scalar_idx = {"skip6": 6, "block3.lambda1": L + 2 * 3 + 1, "block1.sa_lambda_a": 3 * L + 2 * 1,
                  "block14.sa_lambda_b": 3 * L + 2 * 14 + 1, "block7.sa_lambda_a": 3 * L + 2 * 7}
    for step in range(TOTAL_STEPS):
        loss = forward(W, inputs, targets)
        for p in W.values():
            p.grad = None
        loss.backward()
        gold["losses"].append(loss.item())
        if step == 0:
            gold["gradNorms"] = {n: W[n].grad.norm().item() for n in watched}
            gold["scalarGrads"] = {k: W["scalars"].grad[i].item() for k, i in scalar_idx.items()}
            before = {n: W[n].detach().clone() for n in ["blocks.5.mlp.fc_w", "blocks.0.attn.qkv_w", "lm_head_w", "scalars", "value_embeds.1"]}
            ns = zeropower_via_newtonschulz5(W["blocks.5.mlp.fc_w"].grad)
            gold["ns5"] = dict(param="blocks.5.mlp.fc_w", norm=ns.norm().item(), head=ns.flatten()[:8].tolist())
        for g in adam.param_groups:
            g["lr"] = g["initial_lr"] * get_lr(step)
        adam.step()
        muon.step(step)
        if step == 0:
            delta = {n: (W[n].detach() - before[n]) for n in before}
            gold["firstUpdate"] = {
                "muon": {n: dict(norm=delta[n].norm().item(), head=delta[n].flatten()[:8].tolist()) for n in ["blocks.5.mlp.fc_w", "blocks.0.attn.qkv_w"]},
                "adam": {n: dict(norm=delta[n].norm().item(), head=delta[n].flatten()[:8].tolist()) for n in ["lm_head_w", "value_embeds.1"]},
                "scalarsAfter": W["scalars"].detach().tolist(),
            }
    with torch.no_grad():
        gold["losses"].append(forward(W, inputs, targets).item())  # loss after the last update
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "goldens.json")
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(gold, f, indent=1)
        f.write("\n")
    os.replace(tmp, out)
    print(f"wrote {out}: losses {[round(l, 6) for l in gold['losses']]}", file=sys.stderr)


if __name__ == "__main__":
    main()
