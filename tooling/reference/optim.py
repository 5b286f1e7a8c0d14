"""Golden cases for @formers/tensor-core's optimizers, gradient clipping and LR schedulers.

Writes packages/tensor-core/test/golden/optim.safetensors. For every optimizer case: fixed initial parameters and
a fixed sequence of gradients (fed straight into `.grad`, so the case isolates the update rule), and the parameters
after every step as torch computes them. Cases run in float64 (so the comparison can be tight and checks the
rule, not float32 rounding) and a few in float32 (default float32 tolerance). Clipping and scheduler cases record
torch's outputs as well. Everything a case needs is described by the JSON in `__metadata__["cases"]`.

Run with /usr/bin/python3 (torch 1.13).
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import REPO_ROOT, provenance, write_safetensors  # noqa: E402

OUT = os.path.join(REPO_ROOT, "packages", "tensor-core", "test", "golden", "optim.safetensors")
SEED = 20240611
STEPS = 6
SHAPES = [(3, 4), (5,)]


def torch_options(kind, o):
    """Our camelCase options -> torch keyword arguments."""
    m = {"lr": "lr", "momentum": "momentum", "dampening": "dampening", "weightDecay": "weight_decay",
         "nesterov": "nesterov", "betas": "betas", "eps": "eps", "amsgrad": "amsgrad", "maximize": "maximize"}
    out = {m[k]: (tuple(v) if k == "betas" else v) for k, v in o.items()}
    return out


def make_optimizer(kind, params, case):
    cls = {"SGD": torch.optim.SGD, "Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW}[kind]
    if "groups" in case:
        groups = [{"params": [params[i] for i in g["params"]], **torch_options(kind, g["options"])} for g in case["groups"]]
        return cls(groups, **torch_options(kind, case["options"]))
    return cls(params, **torch_options(kind, case["options"]))


CASES = [
    {"name": "sgd_plain", "optimizer": "SGD", "options": {"lr": 0.1}},
    {"name": "sgd_momentum_dampening_wd", "optimizer": "SGD", "options": {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weightDecay": 0.01}},
    {"name": "sgd_nesterov", "optimizer": "SGD", "options": {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weightDecay": 0.001}},
    {"name": "sgd_maximize", "optimizer": "SGD", "options": {"lr": 0.1, "momentum": 0.5, "maximize": True}},
    {"name": "adam_default", "optimizer": "Adam", "options": {"lr": 0.01}},
    {"name": "adam_wd_amsgrad", "optimizer": "Adam", "options": {"lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-6, "weightDecay": 0.1, "amsgrad": True}},
    {"name": "adam_maximize", "optimizer": "Adam", "options": {"lr": 0.02, "maximize": True}},
    {"name": "adamw_default", "optimizer": "AdamW", "options": {"lr": 0.01}},
    {"name": "adamw_amsgrad", "optimizer": "AdamW", "options": {"lr": 0.003, "betas": [0.9, 0.95], "weightDecay": 0.5, "amsgrad": True}},
    {"name": "adam_groups", "optimizer": "Adam", "options": {"lr": 0.01},
     "groups": [{"params": [0], "options": {}}, {"params": [1], "options": {"lr": 0.001, "weightDecay": 0.1}}]},
    # Parameter 1 gets no gradient at step 2: torch skips it (its step count does not advance).
    {"name": "adam_skip", "optimizer": "Adam", "options": {"lr": 0.05}, "skip": [[1, 2]]},
    {"name": "sgd_skip", "optimizer": "SGD", "options": {"lr": 0.05, "momentum": 0.9}, "skip": [[0, 1], [0, 4]]},
    {"name": "sgd_f32", "optimizer": "SGD", "options": {"lr": 0.05, "momentum": 0.9, "weightDecay": 0.01}, "dtype": "float32"},
    {"name": "adam_f32", "optimizer": "Adam", "options": {"lr": 0.01, "weightDecay": 0.01}, "dtype": "float32"},
    {"name": "adamw_f32", "optimizer": "AdamW", "options": {"lr": 0.01, "amsgrad": True}, "dtype": "float32"},
]


def run_case(case, g, tensors):
    dtype = torch.float64 if case.get("dtype", "float64") == "float64" else torch.float32
    name = case["name"]
    inits = [torch.randn(s, generator=g, dtype=torch.float64).to(dtype) for s in SHAPES]
    # Gradients shrink over the steps and change sign, so amsgrad's running max and momentum both matter.
    grads = [
        torch.stack([torch.randn(s, generator=g, dtype=torch.float64) * (1.5 ** -k) for k in range(STEPS)]).to(dtype)
        for s in SHAPES
    ]
    skip = {tuple(x) for x in case.get("skip", [])}
    params = [p.clone().requires_grad_(True) for p in inits]
    opt = make_optimizer(case["optimizer"], params, case)
    after = [[] for _ in SHAPES]
    for k in range(STEPS):
        opt.zero_grad(set_to_none=True)
        for i, p in enumerate(params):
            if (i, k) not in skip:
                p.grad = grads[i][k].clone()
        opt.step()
        for i, p in enumerate(params):
            after[i].append(p.detach().clone())
    for i in range(len(SHAPES)):
        tensors[f"{name}.param{i}.init"] = inits[i]
        tensors[f"{name}.param{i}.grads"] = grads[i]
        tensors[f"{name}.param{i}.after"] = torch.stack(after[i])


def clip_cases(g, tensors):
    out = []
    for name, max_norm, norm_type in [("clip_l2", 1.0, 2.0), ("clip_l1", 0.5, 1.0), ("clip_inf", 0.3, float("inf")),
                                      ("clip_noop", 100.0, 2.0), ("clip_p3", 0.7, 3.0)]:
        grads = [torch.randn(s, generator=g, dtype=torch.float64) for s in SHAPES]
        params = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in SHAPES]
        for p, gr in zip(params, grads):
            p.grad = gr.clone()
        total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
        for i in range(len(SHAPES)):
            tensors[f"{name}.grad{i}.before"] = grads[i]
            tensors[f"{name}.grad{i}.after"] = params[i].grad.detach().clone()
        tensors[f"{name}.total"] = total.detach().reshape(())
        out.append({"name": name, "maxNorm": max_norm, "normType": "inf" if norm_type == float("inf") else norm_type})
    return out


def scheduler_cases(tensors):
    out = []
    p = [torch.zeros(1, requires_grad=True)]
    opt = torch.optim.SGD([{"params": p, "lr": 0.1}, {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.02}], lr=0.1)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
    lrs = []
    for _ in range(25):
        lrs.append([grp["lr"] for grp in opt.param_groups])
        opt.step()
        sched.step()
    tensors["cosine_annealing.lrs"] = torch.tensor(lrs, dtype=torch.float64)
    out.append({"name": "cosine_annealing", "tMax": 10, "etaMin": 0.001, "baseLrs": [0.1, 0.02], "steps": 25})
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.9 ** s + 0.01 * s)
    lrs = []
    for _ in range(8):
        lrs.append([opt.param_groups[0]["lr"]])
        opt.step()
        sched.step()
    tensors["lambda_lr.lrs"] = torch.tensor(lrs, dtype=torch.float64)
    out.append({"name": "lambda_lr", "lambda": "0.9 ** s + 0.01 * s", "baseLrs": [0.5], "steps": 8})
    return out


def main():
    g = torch.Generator().manual_seed(SEED)
    tensors = {}
    for case in CASES:
        run_case(case, g, tensors)
    clips = clip_cases(g, tensors)
    scheds = scheduler_cases(tensors)
    meta = {
        "cases": json.dumps({"steps": STEPS, "shapes": SHAPES, "optimizers": CASES, "clip": clips, "schedulers": scheds}, sort_keys=True),
        "provenance": provenance(__file__, SEED),
        "tolerance": "float64 cases: rtol 1e-10, atol 1e-12 (only summation order differs); float32 cases: rtol 1e-4, atol 1e-5",
    }
    write_safetensors(OUT, tensors, meta)
    print(f"wrote {os.path.relpath(OUT, REPO_ROOT)}: {len(tensors)} tensors")


if __name__ == "__main__":
    main()
