"""Reference trajectories for gau's optimizers (tests/optim/trajectory_test.cpp).

The problem: parameters lin.weight [7, 5], lin.bias [5] and proj.weight [3, 4], with the loss
    L = 1/(2·8) ||X W + b - Y||²  +  1/2 Σ A ⊙ (Q - C)²     X [8, 7], Y [8, 5], A, C [3, 4]
whose gradients are written out below (the C++ test computes the same ones): dW = Xᵀ R / 8,
db = Σ_rows R / 8, dQ = A ⊙ (Q - C), R = X W + b - Y. Weights and data come from
fixture_lib.counter_uniform, so the fixture stores only the trajectories: every parameter after
steps 1, 5, 10 and 20, in float64 (the C++ test runs in f64 and in f32).

SGD, Adam, AdamW and amsgrad are torch.optim's; LAMB (You et al. 2020, Algorithm 2), Adafactor
(Shazeer & Stern 2018, as HF transformers' Adafactor) and Lion (Chen et al. 2023, Program 1) are
written here from their papers, in the form optim/lamb.h, optim/adafactor.h and optim/lion.h state.
Each case's "config" is gau's optim config for it; parameter groups (no decay on the bias) and
lr multipliers map onto torch param groups.

    /work/tmp/venv/bin/python tests/reference/optim_trajectories.py
"""
import fnmatch
import math
import os

import torch

import fixture_lib as fl

STEPS = 20
SAVED = (1, 5, 10, 20)
NAMES = ("lin.weight", "lin.bias", "proj.weight")

# Seeds and ranges of the problem: (shape, seed, low, high); the C++ test uses the same table.
INIT = {"lin.weight": ((7, 5), 101, -0.5, 0.5), "lin.bias": ((5,), 102, -0.5, 0.5), "proj.weight": ((3, 4), 103, -1, 1)}
DATA = {"X": ((8, 7), 201, -1, 1), "Y": ((8, 5), 202, -1, 1), "A": ((3, 4), 203, 0.5, 2), "C": ((3, 4), 204, -1, 1)}


def tensor(spec):
    shape, seed, low, high = spec
    return fl.counter_uniform(shape, seed, low, high).double()


def gradients(p, d):
    r = d["X"] @ p["lin.weight"] + p["lin.bias"] - d["Y"]
    return {
        "lin.weight": d["X"].T @ r / 8,
        "lin.bias": r.sum(0) / 8,
        "proj.weight": d["A"] * (p["proj.weight"] - d["C"]),
    }


# gau's defaults where they are not 0 (optim/factory.h: PyTorch's AdamW, apex's FusedLAMB).
DEFAULT_WEIGHT_DECAY = {"adamw": 0.01, "lamb": 0.01}


def settings(name, cfg):
    """(weight decay, lr multiplier) of a parameter under the config's groups (first match wins)."""
    wd = cfg.get("weight_decay", DEFAULT_WEIGHT_DECAY.get(cfg["type"], 0.0))
    if any(fnmatch.fnmatchcase(name, pat) for pat in cfg.get("no_decay", [])):
        wd = 0.0
    mult = 1.0
    for pat, m in cfg.get("lr_multipliers", {}).items():
        if fnmatch.fnmatchcase(name, pat):
            mult = m
            break
    return wd, mult


class Lamb:
    def __init__(self, params, cfg):
        self.p, self.cfg, self.t = params, cfg, 0
        self.m = {n: torch.zeros_like(v) for n, v in params.items()}
        self.v = {n: torch.zeros_like(v) for n, v in params.items()}

    def step(self, grads):
        c = self.cfg
        b1, b2 = c.get("betas", [0.9, 0.999])
        eps, bc = c.get("eps", 1e-6), c.get("bias_correction", True)
        self.t += 1
        bc1 = 1 - b1**self.t if bc else 1.0
        bc2 = 1 - b2**self.t if bc else 1.0
        for n, w in self.p.items():
            wd, mult = settings(n, c)
            g = grads[n]
            self.m[n] = b1 * self.m[n] + (1 - b1) * g
            self.v[n] = b2 * self.v[n] + (1 - b2) * g * g
            u = (self.m[n] / bc1) / ((self.v[n] / bc2).sqrt() + eps) + wd * w
            w_norm, u_norm = w.norm(), u.norm()
            trust = (w_norm / u_norm).item() if w_norm > 0 and u_norm > 0 else 1.0
            w.sub_(c["lr"] * mult * trust * u)


class Adafactor:
    def __init__(self, params, cfg):
        self.p, self.cfg, self.t = params, cfg, 0
        self.state = {}
        for n, w in params.items():
            s = {}
            if w.dim() >= 2:
                rows = w.numel() // w.shape[-1]
                s["row"], s["col"] = torch.zeros(rows, dtype=w.dtype), torch.zeros(w.shape[-1], dtype=w.dtype)
            else:
                s["v"] = torch.zeros_like(w)
            if cfg.get("beta1") is not None:
                s["m"] = torch.zeros_like(w)
            self.state[n] = s

    @staticmethod
    def rms(x):
        return x.norm(2) / math.sqrt(x.numel())

    def step(self, grads):
        c = self.cfg
        eps1, eps2 = c.get("eps", [1e-30, 1e-3])
        relative, scale_param = c.get("relative_step", True), c.get("scale_parameter", True)
        lr, clip, decay = c.get("lr", 1.0 if relative else 1e-3), c.get("clip_threshold", 1.0), c.get("decay_rate", -0.8)
        beta1 = c.get("beta1")
        self.t += 1
        t = self.t
        rho = min(1e-6 * t if c.get("warmup_init", False) else 1e-2, 1 / math.sqrt(t)) if relative else 1.0
        beta2t = 1.0 - t**decay
        for n, w in self.p.items():
            wd, mult = settings(n, c)
            s, g = self.state[n], grads[n]
            alpha = lr * mult * rho * (max(eps2, self.rms(w).item()) if scale_param else 1.0)
            sq = g * g + eps1
            if w.dim() >= 2:
                g2 = g.reshape(-1, w.shape[-1])
                sq2 = sq.reshape(-1, w.shape[-1])
                s["row"].mul_(beta2t).add_(sq2.mean(dim=-1), alpha=1 - beta2t)
                s["col"].mul_(beta2t).add_(sq2.mean(dim=-2), alpha=1 - beta2t)
                r_factor = (s["row"] / s["row"].mean()).rsqrt().unsqueeze(-1)
                c_factor = s["col"].rsqrt().unsqueeze(0)
                u = (g2 * r_factor * c_factor).reshape(w.shape)
            else:
                s["v"].mul_(beta2t).add_(sq, alpha=1 - beta2t)
                u = s["v"].rsqrt() * g
            u = u / max(1.0, (self.rms(u) / clip).item())
            u = u * alpha
            if beta1 is not None:
                s["m"].mul_(beta1).add_(u, alpha=1 - beta1)
                u = s["m"]
            w.add_(w, alpha=-wd * alpha)
            w.add_(-u)


class Lion:
    def __init__(self, params, cfg):
        self.p, self.cfg = params, cfg
        self.m = {n: torch.zeros_like(v) for n, v in params.items()}

    def step(self, grads):
        c = self.cfg
        b1, b2 = c.get("betas", [0.9, 0.99])
        for n, w in self.p.items():
            wd, mult = settings(n, c)
            lr = c["lr"] * mult
            g = grads[n]
            update = (b1 * self.m[n] + (1 - b1) * g).sign()
            w.mul_(1 - lr * wd).add_(update, alpha=-lr)
            self.m[n] = b2 * self.m[n] + (1 - b2) * g


class Torch:
    """torch.optim's SGD / Adam / AdamW over param groups built from the config."""

    def __init__(self, params, cfg):
        self.p = params
        groups = []
        for n, w in params.items():
            wd, mult = settings(n, cfg)
            w.grad = torch.zeros_like(w)
            groups.append({"params": [w], "weight_decay": wd, "lr": cfg["lr"] * mult})
        kind = cfg["type"]
        if kind == "sgd":
            self.opt = torch.optim.SGD(groups, lr=cfg["lr"], momentum=cfg.get("momentum", 0.0),
                                       dampening=cfg.get("dampening", 0.0), nesterov=cfg.get("nesterov", False))
        else:
            cls = torch.optim.AdamW if kind == "adamw" else torch.optim.Adam
            self.opt = cls(groups, lr=cfg["lr"], betas=tuple(cfg.get("betas", [0.9, 0.999])),
                           eps=cfg.get("eps", 1e-8), amsgrad=cfg.get("amsgrad", False), foreach=False)

    def step(self, grads):
        for n, w in self.p.items():
            w.grad.copy_(grads[n])
        self.opt.step()


GROUPS = {"no_decay": ["*.bias"], "lr_multipliers": {"proj.*": 0.5}}
CASES = {
    "sgd": {"type": "sgd", "lr": 0.1},
    "sgd_momentum": {"type": "sgd", "lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01,
                     "no_decay": ["*.bias"]},
    "sgd_nesterov": {"type": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01, **GROUPS},
    "adam": {"type": "adam", "lr": 0.02, "betas": [0.9, 0.99], "weight_decay": 0.01, "no_decay": ["*.bias"]},
    "adamw": {"type": "adamw", "lr": 0.02, "betas": [0.9, 0.95], "weight_decay": 0.1, **GROUPS},
    "adam_amsgrad": {"type": "adam", "lr": 0.02, "amsgrad": True},
    "adamw_amsgrad": {"type": "adamw", "lr": 0.02, "betas": [0.8, 0.9], "weight_decay": 0.1, "amsgrad": True},
    "lamb": {"type": "lamb", "lr": 0.02, "weight_decay": 0.01, **GROUPS},
    "lamb_no_bias_correction": {"type": "lamb", "lr": 0.01, "betas": [0.9, 0.99], "bias_correction": False},
    "adafactor": {"type": "adafactor"},
    "adafactor_beta1": {"type": "adafactor", "relative_step": False, "lr": 0.01, "beta1": 0.9, "weight_decay": 0.01,
                        "clip_threshold": 0.5, **GROUPS},
    "adafactor_no_scale": {"type": "adafactor", "scale_parameter": False, "lr": 2.0, "eps": [1e-30, 1e-3],
                           "no_decay": ["*.bias"]},
    "lion": {"type": "lion", "lr": 0.01, "weight_decay": 0.1, **GROUPS},
}


def run(cfg):
    params = {n: tensor(INIT[n]) for n in NAMES}
    data = {k: tensor(v) for k, v in DATA.items()}
    kind = cfg["type"]
    opt = {"lamb": Lamb, "adafactor": Adafactor, "lion": Lion}.get(kind, Torch)(params, cfg)
    saved = {}
    for t in range(1, STEPS + 1):
        with torch.no_grad():
            opt.step(gradients(params, data))
        if t in SAVED:
            saved[str(t)] = {n: params[n].reshape(-1).tolist() for n in NAMES}
    return saved


def main():
    torch.set_default_dtype(torch.float64)
    doc = {"steps": list(SAVED), "cases": {name: {"config": cfg, "params": run(cfg)} for name, cfg in CASES.items()}}
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "optim_trajectories.json")
    fl.write(out, doc)
    print("wrote", out)


if __name__ == "__main__":
    main()
