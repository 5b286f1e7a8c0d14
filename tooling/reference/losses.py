"""Golden cases for @formers/tensor-core's losses: cross-entropy (index and probability targets, class weights,
ignore index, label smoothing, spatial and unbatched inputs), BCE-with-logits (pos_weight, weight, logits up to
|x| = 100) and MSE, for every reduction. Values and gradients.

Writes packages/tensor-core/test/golden/losses.safetensors. Each case stores `<case>.input`, `<case>.target` and
optional `<case>.weight` / `<case>.pos_weight` in float32 (targets int32 for class indices), the loss
`<case>.output` and `<case>.grad_input` = d sum(output * cotangent) / d input with `<case>.cotangent` (a scalar 1
for reduced losses). The reference is evaluated in float64 from the stored float32 values and then rounded, so it
carries torch's answer without torch's float32 rounding. `__metadata__["cases"]` holds each case's options in
@formers/tensor-core's names.

Run with /usr/bin/python3 (torch 1.13).
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import REPO_ROOT, provenance, write_safetensors  # noqa: E402

OUT = os.path.join(REPO_ROOT, "packages", "tensor-core", "test", "golden", "losses.safetensors")
SEED = 777


def f32(t):
    return t.to(torch.float32)


def add_case(tensors, meta, g, name, fn_name, opts, x, target, extra=None):
    """x, extra in float32; target int64 (indices) or float32. Reference in float64."""
    extra = extra or {}
    x64 = x.to(torch.float64).requires_grad_(True)
    t64 = target if not target.is_floating_point() else target.to(torch.float64)
    e64 = {k: v.to(torch.float64) for k, v in extra.items()}
    if fn_name == "crossEntropy":
        out = F.cross_entropy(x64, t64, weight=e64.get("weight"), ignore_index=opts.get("ignoreIndex", -100),
                              reduction=opts.get("reduction", "mean"), label_smoothing=opts.get("labelSmoothing", 0.0))
    elif fn_name == "binaryCrossEntropyWithLogits":
        out = F.binary_cross_entropy_with_logits(x64, t64, weight=e64.get("weight"), pos_weight=e64.get("pos_weight"),
                                                 reduction=opts.get("reduction", "mean"))
    elif fn_name == "mseLoss":
        out = F.mse_loss(x64, t64, reduction=opts.get("reduction", "mean"))
    else:
        raise ValueError(fn_name)
    cot = torch.ones(()) if out.dim() == 0 else torch.randn(out.shape, generator=g, dtype=torch.float64)
    cot = f32(cot).to(torch.float64)
    (gx,) = torch.autograd.grad((out * cot).sum(), [x64])
    tensors[f"{name}.input"] = f32(x)
    tensors[f"{name}.target"] = target.to(torch.int32) if not target.is_floating_point() else f32(target)
    for k, v in extra.items():
        tensors[f"{name}.{k}"] = f32(v)
    tensors[f"{name}.output"] = f32(out.detach())
    tensors[f"{name}.cotangent"] = f32(cot)
    tensors[f"{name}.grad_input"] = f32(gx)
    if not torch.isfinite(out).all() or not torch.isfinite(gx).all():
        raise SystemExit(f"{name}: non-finite reference")
    meta.append({"name": name, "fn": fn_name, "options": opts, "extra": sorted(extra)})


def main():
    g = torch.Generator().manual_seed(SEED)
    rn = lambda *s: f32(torch.randn(*s, generator=g, dtype=torch.float64) * 2)  # noqa: E731
    tensors, meta = {}, []

    # Cross-entropy with class indices.
    x = rn(6, 5)
    t = torch.randint(0, 5, (6,), generator=g)
    for red in ["mean", "sum", "none"]:
        add_case(tensors, meta, g, f"ce_basic_{red}", "crossEntropy", {"reduction": red}, x, t)
    x = rn(8, 5)
    t = torch.randint(0, 5, (8,), generator=g)
    t[1] = -100
    t[5] = -100
    w = f32(torch.rand(5, generator=g, dtype=torch.float64) + 0.5)
    for red in ["mean", "sum", "none"]:
        add_case(tensors, meta, g, f"ce_weight_ignore_smooth_{red}", "crossEntropy",
                 {"reduction": red, "labelSmoothing": 0.1}, x, t, {"weight": w})
    add_case(tensors, meta, g, "ce_weight_ignore_mean", "crossEntropy", {"reduction": "mean"}, x, t, {"weight": w})
    add_case(tensors, meta, g, "ce_smooth_mean", "crossEntropy", {"reduction": "mean", "labelSmoothing": 0.25}, x, t)
    # Spatial (N, C, H, W) with a custom ignore index.
    x = rn(2, 4, 3, 3)
    t = torch.randint(0, 4, (2, 3, 3), generator=g)
    t[0, 1, 2] = -1
    t[1, 0, 0] = -1
    w4 = f32(torch.rand(4, generator=g, dtype=torch.float64) + 0.5)
    for red in ["mean", "none"]:
        add_case(tensors, meta, g, f"ce_spatial_{red}", "crossEntropy",
                 {"reduction": red, "ignoreIndex": -1, "labelSmoothing": 0.2}, x, t, {"weight": w4})
    # Probability targets.
    x = rn(4, 5)
    p = torch.softmax(torch.randn(4, 5, generator=g, dtype=torch.float64), 1)
    for red in ["mean", "none"]:
        add_case(tensors, meta, g, f"ce_probs_{red}", "crossEntropy", {"reduction": red, "labelSmoothing": 0.15}, x, f32(p), {"weight": w})
    add_case(tensors, meta, g, "ce_probs_plain_sum", "crossEntropy", {"reduction": "sum"}, x, f32(p))
    # Unbatched (C) input with a 0-d target.
    add_case(tensors, meta, g, "ce_unbatched", "crossEntropy", {"labelSmoothing": 0.05}, rn(5), torch.tensor(3))

    # BCE with logits, including |x| = 100 and exact 0/1 targets.
    x = rn(4, 3)
    x[0, 0], x[1, 1], x[2, 2], x[3, 0] = 100.0, -100.0, 60.0, -35.0
    y = f32(torch.rand(4, 3, generator=g, dtype=torch.float64))
    y[0, 0], y[1, 1], y[2, 2], y[3, 0] = 0.0, 1.0, 1.0, 0.0
    pw = f32(torch.rand(3, generator=g, dtype=torch.float64) * 3 + 0.2)
    ew = f32(torch.rand(4, 1, generator=g, dtype=torch.float64) + 0.5)
    for red in ["mean", "sum", "none"]:
        add_case(tensors, meta, g, f"bce_posweight_{red}", "binaryCrossEntropyWithLogits", {"reduction": red}, x, y,
                 {"pos_weight": pw, "weight": ew})
        add_case(tensors, meta, g, f"bce_plain_{red}", "binaryCrossEntropyWithLogits", {"reduction": red}, x, y)

    # MSE.
    x = rn(3, 4)
    y = rn(3, 4)
    for red in ["mean", "sum", "none"]:
        add_case(tensors, meta, g, f"mse_{red}", "mseLoss", {"reduction": red}, x, y)

    write_safetensors(OUT, tensors, {
        "cases": json.dumps(meta, sort_keys=True),
        "provenance": provenance(__file__, SEED),
        "reference_precision": "float64",
        "dtype": "float32",
    })
    print(f"wrote {os.path.relpath(OUT, REPO_ROOT)}: {len(meta)} cases")


if __name__ == "__main__":
    main()
