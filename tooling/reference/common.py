"""Shared helpers for formers' PyTorch reference scripts.

- A hand-written safetensors reader and writer (the `safetensors` Python package is not installed here, and a
  second independent implementation is what an interop test wants anyway). The format: u64 little-endian header
  length, a JSON header padded with spaces to a multiple of 8, then the byte buffer; see docs/conformance.md.
- `write_case`: writes one golden conformance case (inputs, params, outputs, cotangents and gradients, with
  `op`, `config`, `dtype`, tolerances and provenance in `__metadata__`).

Run every script with /usr/bin/python3 (the interpreter that has torch).
"""
import datetime
import json
import os
import struct
import sys

import torch

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GOLDEN_ROOT = os.path.join(REPO_ROOT, "tooling", "golden")

# torch dtype <-> safetensors dtype name
TORCH_TO_ST = {
    torch.float64: "F64",
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}
ST_TO_TORCH = {v: k for k, v in TORCH_TO_ST.items()}

if sys.byteorder != "little":
    raise SystemExit("these scripts write tensor bytes in host order, which must be little-endian like safetensors")


def tensor_to_bytes(t):
    """Raw little-endian bytes of a tensor, row-major."""
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    if t.dtype == torch.bool:
        return t.to(torch.uint8).numpy().tobytes()
    return t.numpy().tobytes()


def bytes_to_tensor(buf, st_dtype, shape):
    dtype = ST_TO_TORCH[st_dtype]
    if len(buf) == 0:
        return torch.zeros(shape, dtype=dtype)
    if dtype == torch.bfloat16:
        return torch.frombuffer(bytearray(buf), dtype=torch.int16).view(torch.bfloat16).reshape(shape).clone()
    if dtype == torch.bool:
        return torch.frombuffer(bytearray(buf), dtype=torch.uint8).to(torch.bool).reshape(shape).clone()
    return torch.frombuffer(bytearray(buf), dtype=dtype).reshape(shape).clone()


def write_safetensors(path, tensors, metadata=None):
    """Write a safetensors file: data ordered widest dtype first, then by name, as the reference writer does."""
    items = sorted(tensors.items(), key=lambda kv: (-kv[1].element_size(), kv[0]))
    header = {}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(v, str):
                raise TypeError(f"metadata value of {k!r} must be a string, got {type(v).__name__}")
        header["__metadata__"] = dict(sorted(metadata.items()))
    chunks = []
    offset = 0
    for name, t in items:
        b = tensor_to_bytes(t)
        header[name] = {"dtype": TORCH_TO_ST[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for c in chunks:
            f.write(c)


def read_safetensors(path):
    """Read a safetensors file into ({name: torch.Tensor}, metadata), checking that offsets tile the buffer."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = raw[8 + n :]
    spans = sorted((info["data_offsets"][0], info["data_offsets"][1], name) for name, info in header.items())
    cursor = 0
    for b, e, name in spans:
        if b != cursor:
            raise ValueError(f"{path}: entry {name} starts at {b}, expected {cursor}")
        cursor = e
    if cursor != len(data):
        raise ValueError(f"{path}: {len(data) - cursor} trailing bytes")
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        out[name] = bytes_to_tensor(data[b:e], info["dtype"], info["shape"])
    return out, metadata


def provenance(script, seed):
    return json.dumps(
        {
            "torch": torch.__version__,
            "python": sys.version.split()[0],
            "script": os.path.relpath(os.path.abspath(script), REPO_ROOT),
            "seed": seed,
            "date": datetime.date.today().isoformat(),
        },
        sort_keys=True,
    )


def _is_float(t):
    return t.is_floating_point()


def write_case(
    path,
    op,
    config,
    inputs,
    fn,
    params=None,
    *,
    script,
    seed,
    dtype="float32",
    grad=True,
    rtol=None,
    atol=None,
    tolerance_reason=None,
    generator=None,
):
    """Write one golden case.

    inputs/params: dicts of name -> torch tensor, given in the case dtype (float tensors) or int64/bool.
    fn(inputs, params, config) -> dict of name -> real tensor (the op under test, in torch terms).

    The reference is computed in float64 from the stored (float32-rounded) values, so the golden carries torch's
    answer without torch's own float32 rounding; outputs and gradients are then stored in the case dtype.
    Gradients: the scalar L = sum_o sum(output.o * cotangent.o) is differentiated with respect to every floating
    input and parameter, with fixed random cotangents (stored as cotangent.<o>).
    """
    if (rtol is not None or atol is not None) and not tolerance_reason:
        raise ValueError(f"{path}: a tolerance override needs a tolerance_reason")
    params = params or {}
    store_dtype = {"float32": torch.float32, "float64": torch.float64}[dtype]
    overlap = set(inputs) & set(params)
    if overlap:
        raise ValueError(f"{path}: names used as both input and param: {sorted(overlap)}")
    g = generator if generator is not None else torch.Generator().manual_seed(seed)

    def leaf(t):
        if _is_float(t):
            x = t.to(store_dtype).to(torch.float64).clone()
            x.requires_grad_(grad)
            return x
        return t.clone()

    xin = {k: leaf(v) for k, v in inputs.items()}
    xpar = {k: leaf(v) for k, v in params.items()}
    outs = fn(xin, xpar, config)
    tensors = {}
    for k, v in inputs.items():
        tensors[f"input.{k}"] = v.to(store_dtype) if _is_float(v) else v
    for k, v in params.items():
        tensors[f"param.{k}"] = v.to(store_dtype) if _is_float(v) else v
    loss = None
    for k, o in outs.items():
        if o.is_complex():
            raise ValueError(f"{path}: output {k} is complex; split it into real tensors")
        if _is_float(o):
            tensors[f"output.{k}"] = o.detach().to(store_dtype)
            if grad and o.requires_grad:
                cot = torch.randn(o.shape, generator=g, dtype=torch.float64).to(store_dtype)
                tensors[f"cotangent.{k}"] = cot
                term = (o * cot.to(torch.float64)).sum()
                loss = term if loss is None else loss + term
        else:
            tensors[f"output.{k}"] = o.detach()
    if grad and loss is not None:
        leaves = [(k, v) for k, v in list(xin.items()) + list(xpar.items()) if _is_float(v)]
        grads = torch.autograd.grad(loss, [v for _, v in leaves], allow_unused=True)
        for (k, v), gr in zip(leaves, grads):
            tensors[f"grad.{k}"] = (gr if gr is not None else torch.zeros_like(v)).detach().to(store_dtype)
    meta = {
        "op": op,
        "config": json.dumps(config, sort_keys=True),
        "dtype": dtype,
        "reference_precision": "float64",
        "provenance": provenance(script, seed),
    }
    if rtol is not None:
        meta["rtol"] = repr(float(rtol))
    if atol is not None:
        meta["atol"] = repr(float(atol))
    if tolerance_reason:
        meta["tolerance_reason"] = tolerance_reason
    write_safetensors(path, tensors, meta)
    return tensors


def save_file(tensors, filename, metadata=None):
    """The `safetensors.torch.save_file` signature over the hand-written writer."""
    write_safetensors(filename, tensors, metadata)
