"""Golden conformance cases for @formers/tensor-core ops, computed with PyTorch.

Writes tooling/golden/tensor-core/<op>/<variant>.safetensors (format: docs/conformance.md). Every case is seeded
from its own name, so adding a case never changes another. Run with /usr/bin/python3 (or generate-all.sh).
"""
import os
import shutil
import sys
import zlib

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import GOLDEN_ROOT, write_case  # noqa: E402

OUT = os.path.join(GOLDEN_ROOT, "tensor-core")
SCRIPT = __file__
CASES = []


def case(name, op, config, inputs, fn, params=None, **kw):
    """Register a case; `inputs`/`params` are functions of a torch.Generator returning dicts of tensors."""
    CASES.append((name, op, config, inputs, fn, params, kw))


def gen(name):
    seed = zlib.crc32(name.encode("utf-8"))
    return seed, torch.Generator().manual_seed(seed)


def randn(g, *shape, dtype=torch.float32):
    return torch.randn(*shape, generator=g, dtype=torch.float64).to(dtype)


def uniform(g, lo, hi, *shape):
    return (lo + (hi - lo) * torch.rand(*shape, generator=g, dtype=torch.float64)).to(torch.float32)


def away_from_zero(g, *shape, margin=0.2):
    """Values with |x| >= margin, so kinks (relu, abs, clamp) are never hit and finite differences stay smooth."""
    x = randn(g, *shape)
    return torch.where(x.abs() < margin, torch.sign(x + 1e-9) * (margin + x.abs()), x)


def randint(g, lo, hi, *shape):
    return torch.randint(lo, hi, shape, generator=g, dtype=torch.int64)


def x_only(make):
    return lambda g: {"x": make(g)}


# ---------------------------------------------------------------------------------------------------------------
# Elementwise unary ops and activations: input x, output out.

UNARY = {
    "abs": (lambda x, c: x.abs(), lambda g: away_from_zero(g, 3, 4)),
    "neg": (lambda x, c: -x, lambda g: randn(g, 3, 4)),
    "exp": (lambda x, c: x.exp(), lambda g: randn(g, 3, 4)),
    "log": (lambda x, c: x.log(), lambda g: uniform(g, 0.1, 3.0, 3, 4)),
    "log1p": (lambda x, c: x.log1p(), lambda g: uniform(g, -0.5, 3.0, 3, 4)),
    "sqrt": (lambda x, c: x.sqrt(), lambda g: uniform(g, 0.1, 3.0, 3, 4)),
    "rsqrt": (lambda x, c: x.rsqrt(), lambda g: uniform(g, 0.1, 3.0, 3, 4)),
    "reciprocal": (lambda x, c: x.reciprocal(), lambda g: uniform(g, 0.3, 3.0, 3, 4) * torch.tensor([1.0, -1.0, 1.0, -1.0])),
    "square": (lambda x, c: x.square(), lambda g: randn(g, 3, 4)),
    "sin": (lambda x, c: x.sin(), lambda g: randn(g, 3, 4) * 3),
    "cos": (lambda x, c: x.cos(), lambda g: randn(g, 3, 4) * 3),
    "tanh": (lambda x, c: x.tanh(), lambda g: randn(g, 3, 4) * 2),
    "sigmoid": (lambda x, c: x.sigmoid(), lambda g: randn(g, 3, 4) * 3),
    "relu": (lambda x, c: F.relu(x), lambda g: away_from_zero(g, 3, 4)),
    "silu": (lambda x, c: F.silu(x), lambda g: randn(g, 3, 4) * 2),
    "erf": (lambda x, c: torch.erf(x), lambda g: randn(g, 3, 4)),
}
for op, (fn, make) in UNARY.items():
    case(f"{op}/basic", op, {}, x_only(make), (lambda f: lambda i, p, c: {"out": f(i["x"], c)})(fn))

for approximate in ["none", "tanh"]:
    case(f"gelu/{approximate}", "gelu", {"approximate": approximate}, x_only(lambda g: randn(g, 3, 5) * 2),
         lambda i, p, c: {"out": F.gelu(i["x"], approximate=c["approximate"])})
case("elu/alpha-1", "elu", {"alpha": 1.0}, x_only(lambda g: away_from_zero(g, 3, 4) * 2),
     lambda i, p, c: {"out": F.elu(i["x"], alpha=c["alpha"])})
case("elu/alpha-0.5", "elu", {"alpha": 0.5}, x_only(lambda g: away_from_zero(g, 3, 4) * 2),
     lambda i, p, c: {"out": F.elu(i["x"], alpha=c["alpha"])})
case("softplus/default", "softplus", {"beta": 1.0, "threshold": 20.0}, x_only(lambda g: randn(g, 3, 4) * 3),
     lambda i, p, c: {"out": F.softplus(i["x"], beta=c["beta"], threshold=c["threshold"])})
# beta*x crosses the threshold for some elements, where softplus switches to the identity.
case("softplus/beta-2-threshold-3", "softplus", {"beta": 2.0, "threshold": 3.0}, x_only(lambda g: away_from_zero(g, 4, 4) * 2 + 0.05),
     lambda i, p, c: {"out": F.softplus(i["x"], beta=c["beta"], threshold=c["threshold"])})
case("clamp/min-max", "clamp", {"min": -0.5, "max": 0.7}, x_only(lambda g: randn(g, 4, 4)),
     lambda i, p, c: {"out": torch.clamp(i["x"], min=c["min"], max=c["max"])})
case("clamp/min-only", "clamp", {"min": 0.1}, x_only(lambda g: randn(g, 4, 4)),
     lambda i, p, c: {"out": torch.clamp(i["x"], min=c["min"])})

# ---------------------------------------------------------------------------------------------------------------
# Binary ops with broadcasting: inputs a, b, output out.

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "maximum": torch.maximum,
    "minimum": torch.minimum,
    "pow": torch.pow,
}
for op, fn in BINARY.items():
    for variant, sa, sb in [("same-shape", (3, 4), (3, 4)), ("broadcast", (2, 3, 4), (3, 1)), ("broadcast-both", (2, 1, 4), (3, 1))]:
        def make(g, sa=sa, sb=sb, op=op):
            a, b = randn(g, *sa), randn(g, *sb)
            if op == "div":
                b = torch.where(b.abs() < 0.3, torch.sign(b + 1e-9) * (0.3 + b.abs()), b)
            if op == "pow":
                a = uniform(g, 0.2, 2.0, *sa)
            return {"a": a, "b": b}
        case(f"{op}/{variant}", op, {}, make, (lambda f: lambda i, p, c: {"out": f(i["a"], i["b"])})(fn))

# ---------------------------------------------------------------------------------------------------------------
# Reductions: input x [2, 3, 4], output out.


def reduce_cases(op, fn, variants, make=lambda g: randn(g, 2, 3, 4), grad=True):
    for variant, config in variants:
        case(f"{op}/{variant}", op, config, x_only(make), (lambda f: lambda i, p, c: {"out": f(i["x"], c)})(fn), grad=grad)


def dims(c):
    return c.get("dim")


reduce_cases("sum", lambda x, c: x.sum() if dims(c) is None else x.sum(dim=c["dim"], keepdim=c.get("keepdim", False)),
             [("all", {}), ("dim-1", {"dim": 1}), ("dim-neg1-keepdim", {"dim": -1, "keepdim": True}), ("dims-0-2", {"dim": [0, 2]})])
reduce_cases("mean", lambda x, c: x.mean() if dims(c) is None else x.mean(dim=c["dim"], keepdim=c.get("keepdim", False)),
             [("all", {}), ("dim-2", {"dim": 2}), ("dims-0-1-keepdim", {"dim": [0, 1], "keepdim": True})])
reduce_cases("var", lambda x, c: torch.var(x, dim=c.get("dim"), keepdim=c.get("keepdim", False), unbiased=c.get("correction", 1) == 1),
             [("dim-1", {"dim": 1, "correction": 1}), ("dim-2-population", {"dim": 2, "correction": 0, "keepdim": True}), ("all", {"correction": 1})])
reduce_cases("std", lambda x, c: torch.std(x, dim=c.get("dim"), keepdim=c.get("keepdim", False), unbiased=c.get("correction", 1) == 1),
             [("dim-neg1", {"dim": -1, "correction": 1}), ("dims-0-2-population", {"dim": [0, 2], "correction": 0})])
reduce_cases("amax", lambda x, c: torch.amax(x, dim=c["dim"], keepdim=c.get("keepdim", False)),
             [("dim-1", {"dim": 1}), ("dim-neg1-keepdim", {"dim": -1, "keepdim": True})])
reduce_cases("amin", lambda x, c: torch.amin(x, dim=c["dim"], keepdim=c.get("keepdim", False)),
             [("dim-0", {"dim": 0})])
reduce_cases("logsumexp", lambda x, c: torch.logsumexp(x, dim=c["dim"], keepdim=c.get("keepdim", False)),
             [("dim-2", {"dim": 2}), ("dim-0-keepdim", {"dim": 0, "keepdim": True})], make=lambda g: randn(g, 2, 3, 4) * 5)
reduce_cases("argmax", lambda x, c: torch.argmax(x, dim=c["dim"], keepdim=c.get("keepdim", False)),
             [("dim-1", {"dim": 1}), ("dim-neg1-keepdim", {"dim": -1, "keepdim": True})], grad=False)
reduce_cases("argmin", lambda x, c: torch.argmin(x, dim=c["dim"], keepdim=c.get("keepdim", False)),
             [("dim-2", {"dim": 2})], grad=False)

# ---------------------------------------------------------------------------------------------------------------
# Linear algebra: matmul (torch.matmul broadcasting, 1-D operands), bmm, linear.

for variant, sa, sb in [
    ("2d-2d", (3, 4), (4, 5)),
    ("1d-2d", (4,), (4, 5)),
    ("2d-1d", (3, 4), (4,)),
    ("1d-1d", (4,), (4,)),
    ("batched", (2, 3, 4), (2, 4, 5)),
    ("broadcast-batch", (2, 1, 3, 4), (3, 4, 5)),
    ("1d-batched", (4,), (2, 4, 3)),
    ("batched-1d", (2, 3, 4), (4,)),
]:
    case(f"matmul/{variant}", "matmul", {}, (lambda sa, sb: lambda g: {"a": randn(g, *sa), "b": randn(g, *sb)})(sa, sb),
         lambda i, p, c: {"out": torch.matmul(i["a"], i["b"])})
case("matmul/float64", "matmul", {}, lambda g: {"a": randn(g, 3, 4, dtype=torch.float64), "b": randn(g, 4, 2, dtype=torch.float64)},
     lambda i, p, c: {"out": torch.matmul(i["a"], i["b"])}, dtype="float64")
case("bmm/basic", "bmm", {}, lambda g: {"a": randn(g, 2, 3, 4), "b": randn(g, 2, 4, 5)},
     lambda i, p, c: {"out": torch.bmm(i["a"], i["b"])})
case("linear/bias", "linear", {}, x_only(lambda g: randn(g, 2, 3, 4)), lambda i, p, c: {"out": F.linear(i["x"], p["weight"], p["bias"])},
     params=lambda g: {"weight": randn(g, 5, 4), "bias": randn(g, 5)})
case("linear/no-bias", "linear", {}, x_only(lambda g: randn(g, 3, 4)), lambda i, p, c: {"out": F.linear(i["x"], p["weight"])},
     params=lambda g: {"weight": randn(g, 2, 4)})

# ---------------------------------------------------------------------------------------------------------------
# Softmax family and normalisation.

for op, fn in [("softmax", F.softmax), ("log_softmax", F.log_softmax)]:
    for dim in [-1, 0, 1]:
        case(f"{op}/dim-{dim}".replace("dim--1", "dim-neg1"), op, {"dim": dim}, x_only(lambda g: randn(g, 2, 3, 5) * 2),
             (lambda f: lambda i, p, c: {"out": f(i["x"], dim=c["dim"])})(fn))
    case(f"{op}/float64", op, {"dim": -1}, x_only(lambda g: randn(g, 3, 4, dtype=torch.float64) * 3),
         (lambda f: lambda i, p, c: {"out": f(i["x"], dim=c["dim"])})(fn), dtype="float64")
    # Large logits: the max-subtraction must keep exp from overflowing.
    case(f"{op}/large-logits", op, {"dim": -1}, x_only(lambda g: randn(g, 2, 4) * 30 + 80),
         (lambda f: lambda i, p, c: {"out": f(i["x"], dim=c["dim"])})(fn))

case("layer_norm/affine", "layer_norm", {"normalized_shape": [6], "eps": 1e-5}, x_only(lambda g: randn(g, 2, 3, 6) * 2 + 1),
     lambda i, p, c: {"out": F.layer_norm(i["x"], c["normalized_shape"], p["weight"], p["bias"], eps=c["eps"])},
     params=lambda g: {"weight": 1 + 0.3 * randn(g, 6), "bias": 0.3 * randn(g, 6)})
case("layer_norm/no-affine", "layer_norm", {"normalized_shape": [6], "eps": 1e-5}, x_only(lambda g: randn(g, 4, 6)),
     lambda i, p, c: {"out": F.layer_norm(i["x"], c["normalized_shape"], eps=c["eps"])})
case("layer_norm/two-dims", "layer_norm", {"normalized_shape": [3, 4], "eps": 1e-6}, x_only(lambda g: randn(g, 2, 3, 4)),
     lambda i, p, c: {"out": F.layer_norm(i["x"], c["normalized_shape"], p["weight"], p["bias"], eps=c["eps"])},
     params=lambda g: {"weight": 1 + 0.3 * randn(g, 3, 4), "bias": 0.3 * randn(g, 3, 4)})
case("layer_norm/float64", "layer_norm", {"normalized_shape": [5], "eps": 1e-5}, x_only(lambda g: randn(g, 3, 5, dtype=torch.float64)),
     lambda i, p, c: {"out": F.layer_norm(i["x"], c["normalized_shape"], p["weight"], p["bias"], eps=c["eps"])},
     params=lambda g: {"weight": 1 + 0.3 * randn(g, 5, dtype=torch.float64), "bias": 0.3 * randn(g, 5, dtype=torch.float64)}, dtype="float64")


def rms_norm(x, normalized_shape, weight, eps):
    """RMSNorm (Zhang & Sennrich 2019) as torch.nn.functional.rms_norm defines it; torch 1.13 lacks F.rms_norm."""
    d = tuple(range(-len(normalized_shape), 0))
    y = x * torch.rsqrt(x.pow(2).mean(dim=d, keepdim=True) + eps)
    return y * weight if weight is not None else y


case("rms_norm/weight", "rms_norm", {"normalized_shape": [6], "eps": 1e-6}, x_only(lambda g: randn(g, 2, 3, 6) * 2),
     lambda i, p, c: {"out": rms_norm(i["x"], c["normalized_shape"], p["weight"], c["eps"])},
     params=lambda g: {"weight": 1 + 0.3 * randn(g, 6)})
case("rms_norm/no-weight", "rms_norm", {"normalized_shape": [2, 4], "eps": 1e-5}, x_only(lambda g: randn(g, 3, 2, 4)),
     lambda i, p, c: {"out": rms_norm(i["x"], c["normalized_shape"], None, c["eps"])})

# ---------------------------------------------------------------------------------------------------------------
# Convolutions: input x, params weight (and bias), config stride/padding/dilation/groups as torch.

CONV1D = [
    ("basic", (2, 3, 9), (4, 3, 3), True, {"stride": 1, "padding": 0, "dilation": 1, "groups": 1}),
    ("stride-2-padding-1", (2, 3, 10), (4, 3, 3), True, {"stride": 2, "padding": 1, "dilation": 1, "groups": 1}),
    ("dilation-2-groups-2", (1, 4, 11), (6, 2, 3), True, {"stride": 1, "padding": 2, "dilation": 2, "groups": 2}),
    ("padding-same-no-bias", (2, 2, 8), (3, 2, 4), False, {"stride": 1, "padding": "same", "dilation": 1, "groups": 1}),
    ("depthwise", (1, 3, 7), (3, 1, 5), True, {"stride": 1, "padding": 2, "dilation": 1, "groups": 3}),
]
for variant, sx, sw, bias, cfg in CONV1D:
    case(f"conv1d/{variant}", "conv1d", cfg, (lambda sx: x_only(lambda g: randn(g, *sx)))(sx),
         lambda i, p, c: {"out": F.conv1d(i["x"], p["weight"], p.get("bias"), **c)},
         params=(lambda sw, bias: lambda g: {"weight": randn(g, *sw) * 0.5, **({"bias": randn(g, sw[0])} if bias else {})})(sw, bias))

CONV2D = [
    ("basic", (2, 3, 6, 5), (4, 3, 3, 3), True, {"stride": 1, "padding": 0, "dilation": 1, "groups": 1}),
    ("stride-2-padding-1", (1, 2, 7, 8), (3, 2, 3, 3), True, {"stride": 2, "padding": 1, "dilation": 1, "groups": 1}),
    ("asymmetric", (1, 2, 7, 9), (3, 2, 2, 3), True, {"stride": [2, 1], "padding": [1, 0], "dilation": [1, 2], "groups": 1}),
    ("groups-2", (2, 4, 5, 5), (6, 2, 3, 3), True, {"stride": 1, "padding": 1, "dilation": 1, "groups": 2}),
    ("dilation-2", (1, 2, 8, 8), (2, 2, 3, 3), False, {"stride": 1, "padding": 2, "dilation": 2, "groups": 1}),
    ("padding-same", (1, 3, 6, 7), (2, 3, 4, 3), True, {"stride": 1, "padding": "same", "dilation": 1, "groups": 1}),
    ("depthwise", (1, 3, 6, 6), (3, 1, 3, 3), True, {"stride": 1, "padding": 1, "dilation": 1, "groups": 3}),
    ("patchify", (2, 3, 8, 8), (5, 3, 4, 4), True, {"stride": 4, "padding": 0, "dilation": 1, "groups": 1}),
]
for variant, sx, sw, bias, cfg in CONV2D:
    case(f"conv2d/{variant}", "conv2d", cfg, (lambda sx: x_only(lambda g: randn(g, *sx)))(sx),
         lambda i, p, c: {"out": F.conv2d(i["x"], p["weight"], p.get("bias"), **c)},
         params=(lambda sw, bias: lambda g: {"weight": randn(g, *sw) * 0.5, **({"bias": randn(g, sw[0])} if bias else {})})(sw, bias))
case("conv2d/float64", "conv2d", {"stride": 1, "padding": 1, "dilation": 1, "groups": 1},
     x_only(lambda g: randn(g, 1, 2, 4, 4, dtype=torch.float64)),
     lambda i, p, c: {"out": F.conv2d(i["x"], p["weight"], p["bias"], **c)},
     params=lambda g: {"weight": randn(g, 3, 2, 3, 3, dtype=torch.float64), "bias": randn(g, 3, dtype=torch.float64)}, dtype="float64")

# ---------------------------------------------------------------------------------------------------------------
# Indexing.

case("gather/dim-1", "gather", {"dim": 1}, lambda g: {"x": randn(g, 3, 5), "index": randint(g, 0, 5, 3, 4)},
     lambda i, p, c: {"out": torch.gather(i["x"], c["dim"], i["index"])})
case("gather/dim-0", "gather", {"dim": 0}, lambda g: {"x": randn(g, 4, 3, 2), "index": randint(g, 0, 4, 2, 3, 2)},
     lambda i, p, c: {"out": torch.gather(i["x"], c["dim"], i["index"])})
case("index_select/dim-0", "index_select", {"dim": 0}, lambda g: {"x": randn(g, 5, 3), "index": torch.tensor([4, 0, 2, 0])},
     lambda i, p, c: {"out": torch.index_select(i["x"], c["dim"], i["index"])})
case("index_select/dim-1", "index_select", {"dim": 1}, lambda g: {"x": randn(g, 2, 5, 3), "index": torch.tensor([1, 1, 3])},
     lambda i, p, c: {"out": torch.index_select(i["x"], c["dim"], i["index"])})
case("scatter_add/dim-1", "scatter_add", {"dim": 1},
     lambda g: {"x": randn(g, 3, 4), "index": randint(g, 0, 4, 3, 6), "src": randn(g, 3, 6)},
     lambda i, p, c: {"out": torch.scatter_add(i["x"], c["dim"], i["index"], i["src"])})
case("embedding/basic", "embedding", {}, lambda g: {"input": randint(g, 0, 10, 2, 5)},
     lambda i, p, c: {"out": F.embedding(i["input"], p["weight"])}, params=lambda g: {"weight": randn(g, 10, 4)})
case("embedding/padding-idx", "embedding", {"padding_idx": 0}, lambda g: {"input": torch.tensor([[0, 3, 3, 1], [2, 0, 5, 4]])},
     lambda i, p, c: {"out": F.embedding(i["input"], p["weight"], padding_idx=c["padding_idx"])}, params=lambda g: {"weight": randn(g, 6, 3)})
case("masked_fill/basic", "masked_fill", {"value": -1.5},
     lambda g: {"x": randn(g, 3, 4), "mask": torch.rand(3, 4, generator=g) < 0.4},
     lambda i, p, c: {"out": i["x"].masked_fill(i["mask"], c["value"])})
case("masked_fill/broadcast-mask", "masked_fill", {"value": 0.0},
     lambda g: {"x": randn(g, 2, 3, 4), "mask": torch.tensor([[True, False, False, True]])},
     lambda i, p, c: {"out": i["x"].masked_fill(i["mask"], c["value"])})
case("where/broadcast", "where", {},
     lambda g: {"condition": torch.rand(3, 1, generator=g) < 0.5, "x": randn(g, 3, 4), "y": randn(g, 1, 4)},
     lambda i, p, c: {"out": torch.where(i["condition"], i["x"], i["y"])})
case("where/same-shape", "where", {},
     lambda g: {"condition": torch.rand(2, 5, generator=g) < 0.5, "x": randn(g, 2, 5), "y": randn(g, 2, 5)},
     lambda i, p, c: {"out": torch.where(i["condition"], i["x"], i["y"])})

# ---------------------------------------------------------------------------------------------------------------
# Joining, splitting, shape and structure ops. Several inputs are named t0, t1, ...; several outputs 0, 1, ...


def tensors_of(shapes):
    return lambda g: {f"t{k}": randn(g, *s) for k, s in enumerate(shapes)}


def listed(i):
    return [i[f"t{k}"] for k in range(len(i))]


case("cat/dim-0", "cat", {"dim": 0}, tensors_of([(2, 3), (1, 3), (3, 3)]), lambda i, p, c: {"out": torch.cat(listed(i), dim=c["dim"])})
case("cat/dim-neg1", "cat", {"dim": -1}, tensors_of([(2, 3, 1), (2, 3, 4)]), lambda i, p, c: {"out": torch.cat(listed(i), dim=c["dim"])})
case("stack/dim-0", "stack", {"dim": 0}, tensors_of([(2, 3), (2, 3), (2, 3)]), lambda i, p, c: {"out": torch.stack(listed(i), dim=c["dim"])})
case("stack/dim-neg1", "stack", {"dim": -1}, tensors_of([(2, 3), (2, 3)]), lambda i, p, c: {"out": torch.stack(listed(i), dim=c["dim"])})
case("split/sizes", "split", {"split_size_or_sections": [1, 3, 1], "dim": 1}, x_only(lambda g: randn(g, 2, 5, 3)),
     lambda i, p, c: {str(k): t for k, t in enumerate(torch.split(i["x"], c["split_size_or_sections"], dim=c["dim"]))})
case("split/size-2", "split", {"split_size_or_sections": 2, "dim": -1}, x_only(lambda g: randn(g, 3, 5)),
     lambda i, p, c: {str(k): t for k, t in enumerate(torch.split(i["x"], c["split_size_or_sections"], dim=c["dim"]))})
case("chunk/3", "chunk", {"chunks": 3, "dim": 0}, x_only(lambda g: randn(g, 7, 2)),
     lambda i, p, c: {str(k): t for k, t in enumerate(torch.chunk(i["x"], c["chunks"], dim=c["dim"]))})
case("permute/basic", "permute", {"dims": [2, 0, 1]}, x_only(lambda g: randn(g, 2, 3, 4)), lambda i, p, c: {"out": i["x"].permute(*c["dims"])})
case("transpose/basic", "transpose", {"dim0": 0, "dim1": -1}, x_only(lambda g: randn(g, 2, 3, 4)),
     lambda i, p, c: {"out": i["x"].transpose(c["dim0"], c["dim1"])})
case("reshape/basic", "reshape", {"shape": [4, -1]}, x_only(lambda g: randn(g, 2, 3, 4)), lambda i, p, c: {"out": i["x"].reshape(c["shape"])})
case("expand/basic", "expand", {"size": [2, 3, 4]}, x_only(lambda g: randn(g, 3, 1)), lambda i, p, c: {"out": i["x"].expand(*c["size"])})
for op, fn in [("triu", torch.triu), ("tril", torch.tril)]:
    for diagonal in [0, 1, -1]:
        case(f"{op}/diagonal-{diagonal}".replace("--", "-neg"), op, {"diagonal": diagonal}, x_only(lambda g: randn(g, 2, 4, 5)),
             (lambda f: lambda i, p, c: {"out": f(i["x"], diagonal=c["diagonal"])})(fn))
case("cumsum/dim-1", "cumsum", {"dim": 1}, x_only(lambda g: randn(g, 2, 5, 3)), lambda i, p, c: {"out": torch.cumsum(i["x"], dim=c["dim"])})
case("cumsum/dim-neg1", "cumsum", {"dim": -1}, x_only(lambda g: randn(g, 3, 6)), lambda i, p, c: {"out": torch.cumsum(i["x"], dim=c["dim"])})
case("flip/dims-0-2", "flip", {"dims": [0, 2]}, x_only(lambda g: randn(g, 2, 3, 4)), lambda i, p, c: {"out": torch.flip(i["x"], c["dims"])})
case("flip/dim-neg1", "flip", {"dims": [-1]}, x_only(lambda g: randn(g, 3, 5)), lambda i, p, c: {"out": torch.flip(i["x"], c["dims"])})
case("roll/dim-1", "roll", {"shifts": 2, "dims": 1}, x_only(lambda g: randn(g, 2, 5)),
     lambda i, p, c: {"out": torch.roll(i["x"], c["shifts"], c["dims"])})
case("roll/two-dims-negative", "roll", {"shifts": [-1, 3], "dims": [0, 2]}, x_only(lambda g: randn(g, 3, 2, 4)),
     lambda i, p, c: {"out": torch.roll(i["x"], c["shifts"], c["dims"])})
case("roll/flattened", "roll", {"shifts": 5}, x_only(lambda g: randn(g, 3, 4)), lambda i, p, c: {"out": torch.roll(i["x"], c["shifts"])})
for variant, shape, cfg in [
    ("constant-1d", (2, 3, 5), {"pad": [1, 2], "mode": "constant", "value": 0.5}),
    ("constant-2d", (1, 2, 3, 4), {"pad": [2, 0, 1, 1], "mode": "constant", "value": 0.0}),
    ("constant-negative", (2, 6), {"pad": [-1, 2], "mode": "constant", "value": 0.0}),
    ("reflect-1d", (2, 3, 5), {"pad": [2, 3], "mode": "reflect"}),
    ("reflect-2d", (1, 2, 4, 5), {"pad": [1, 2, 3, 1], "mode": "reflect"}),
    ("replicate-1d", (1, 2, 4), {"pad": [3, 1], "mode": "replicate"}),
    ("replicate-2d", (1, 1, 3, 4), {"pad": [2, 1, 0, 2], "mode": "replicate"}),
]:
    case(f"pad/{variant}", "pad", cfg, (lambda s: x_only(lambda g: randn(g, *s)))(shape),
         lambda i, p, c: {"out": F.pad(i["x"], c["pad"], mode=c["mode"], **({"value": c["value"]} if "value" in c else {}))})

# ---------------------------------------------------------------------------------------------------------------
# interpolate: input x [B, C, H, W] (or [B, C, L] for 1-D nearest), config as torch.nn.functional.interpolate.

INTERP = [
    ("nearest-up", (1, 2, 3, 4), {"size": [6, 7], "mode": "nearest"}),
    ("nearest-scale", (2, 1, 4, 4), {"scale_factor": 2.0, "mode": "nearest"}),
    ("nearest-down", (1, 2, 7, 5), {"size": [3, 4], "mode": "nearest"}),
    ("nearest-1d", (2, 3, 5), {"size": [8], "mode": "nearest"}),
    ("bilinear-up", (1, 2, 3, 4), {"size": [5, 7], "mode": "bilinear", "align_corners": False}),
    ("bilinear-up-align-corners", (1, 2, 3, 4), {"size": [5, 7], "mode": "bilinear", "align_corners": True}),
    ("bilinear-down", (1, 2, 8, 6), {"size": [3, 4], "mode": "bilinear", "align_corners": False}),
    ("bilinear-down-antialias", (1, 2, 8, 6), {"size": [3, 4], "mode": "bilinear", "align_corners": False, "antialias": True}),
    ("bicubic-up", (1, 2, 4, 3), {"size": [7, 5], "mode": "bicubic", "align_corners": False}),
    ("bicubic-up-align-corners", (1, 1, 4, 4), {"size": [6, 6], "mode": "bicubic", "align_corners": True}),
    ("bicubic-down", (1, 2, 9, 8), {"size": [4, 5], "mode": "bicubic", "align_corners": False}),
    ("bicubic-down-antialias", (1, 2, 9, 8), {"size": [4, 5], "mode": "bicubic", "align_corners": False, "antialias": True}),
    ("bicubic-scale-1.5", (1, 1, 4, 6), {"scale_factor": 1.5, "mode": "bicubic", "align_corners": False}),
]
for variant, shape, cfg in INTERP:
    case(f"interpolate/{variant}", "interpolate", cfg, (lambda s: x_only(lambda g: randn(g, *s)))(shape),
         lambda i, p, c: {"out": F.interpolate(i["x"], **c)})

# ---------------------------------------------------------------------------------------------------------------
# FFT over the last dim (or `dim`). Complex tensors are split into real and imaginary parts: re, im.

case("rfft/basic", "rfft", {"dim": -1}, x_only(lambda g: randn(g, 2, 8)),
     lambda i, p, c: (lambda y: {"re": y.real, "im": y.imag})(torch.fft.rfft(i["x"], dim=c["dim"])))
case("rfft/odd-ortho", "rfft", {"dim": -1, "norm": "ortho"}, x_only(lambda g: randn(g, 3, 7)),
     lambda i, p, c: (lambda y: {"re": y.real, "im": y.imag})(torch.fft.rfft(i["x"], dim=c["dim"], norm=c["norm"])))
case("rfft/n-padded-dim-0", "rfft", {"n": 10, "dim": 0}, x_only(lambda g: randn(g, 6, 2)),
     lambda i, p, c: (lambda y: {"re": y.real, "im": y.imag})(torch.fft.rfft(i["x"], n=c["n"], dim=c["dim"])))


def complex_in(shape):
    return lambda g: {"re": randn(g, *shape), "im": randn(g, *shape)}


case("irfft/basic", "irfft", {"dim": -1}, complex_in((2, 5)),
     lambda i, p, c: {"out": torch.fft.irfft(torch.complex(i["re"], i["im"]), dim=c["dim"])})
case("irfft/n-odd", "irfft", {"n": 9, "dim": -1}, complex_in((2, 5)),
     lambda i, p, c: {"out": torch.fft.irfft(torch.complex(i["re"], i["im"]), n=c["n"], dim=c["dim"])})
case("irfft/n-long-ortho", "irfft", {"n": 12, "dim": -1, "norm": "ortho"}, complex_in((3, 4)),
     lambda i, p, c: {"out": torch.fft.irfft(torch.complex(i["re"], i["im"]), n=c["n"], dim=c["dim"], norm=c["norm"])})
case("fft/basic", "fft", {"dim": -1}, complex_in((2, 6)),
     lambda i, p, c: (lambda y: {"re": y.real, "im": y.imag})(torch.fft.fft(torch.complex(i["re"], i["im"]), dim=c["dim"])))
case("ifft/odd", "ifft", {"dim": -1}, complex_in((2, 5)),
     lambda i, p, c: (lambda y: {"re": y.real, "im": y.imag})(torch.fft.ifft(torch.complex(i["re"], i["im"]), dim=c["dim"])))


def main():
    only = sys.argv[1:]
    if not only and os.path.isdir(OUT):
        shutil.rmtree(OUT)  # regenerate from scratch, so a removed case leaves no stale file behind
    n = 0
    for name, op, config, inputs, fn, params, kw in CASES:
        if only and not any(name.startswith(o) for o in only):
            continue
        seed, g = gen(name)
        ins = inputs(g)
        pars = params(g) if params else {}
        write_case(os.path.join(OUT, name + ".safetensors"), op, config, ins, fn, pars, script=SCRIPT, seed=seed, generator=g, **kw)
        n += 1
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print(f"ops.py: wrote {n} cases to {os.path.relpath(OUT)} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
