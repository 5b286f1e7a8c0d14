"""safetensors interop fixtures between PyTorch and @formers/tensor-core's io.

Run without arguments (as generate-all.sh does) to
  1. write tooling/golden/io/torch-written*.safetensors: torch tensors of every dtype, edge values included
     (subnormals, +-inf, nan, -0, int32 limits, scalars, empty tensors, unaligned offsets), written by the
     hand-written writer in common.py (and by the `safetensors` package too when it is importable), each with a
     .expected.json of the values as torch sees them;
  2. check tooling/golden/io/ts-written.safetensors (written by formers' serializer, see
     packages/tensor-core/test/io-interop.test.ts) and record what torch read in ts-written.check.json.

`--check FILE --out JSON` runs only step 2 on any file (the interop test calls it live when torch is present).
"""
import argparse
import json
import math
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import GOLDEN_ROOT, TORCH_TO_ST, provenance, read_safetensors, tensor_to_bytes, write_safetensors  # noqa: E402

IO_DIR = os.path.join(GOLDEN_ROOT, "io")
SEED = 1234

try:  # optional second writer/reader; not installed on the machine these fixtures were made on
    import safetensors  # type: ignore
    import safetensors.torch as st_torch  # type: ignore
except Exception:  # pragma: no cover - depends on the machine
    safetensors = None
    st_torch = None


def encode_value(x):
    """A float as JSON: numbers for finite values, strings for what JSON cannot hold exactly."""
    if isinstance(x, bool):
        return int(x)
    if isinstance(x, int):
        return x
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0 and math.copysign(1.0, x) < 0:
        return "-0"
    return x


def describe_tensors(tensors):
    out = {}
    for name, t in sorted(tensors.items()):
        wide = t.to(torch.float64) if t.is_floating_point() else t.to(torch.int64)
        out[name] = {
            "dtype": TORCH_TO_ST[t.dtype],
            "shape": list(t.shape),
            "values": [encode_value(v) for v in wide.reshape(-1).tolist()],
        }
    return out


def fixture_tensors():
    g = torch.Generator().manual_seed(SEED)
    f32 = torch.tensor(
        [0.0, -0.0, 1.0, -2.5, 3.4028234663852886e38, 1.1754943508222875e-38, 1.401298464324817e-45,
         float("inf"), float("-inf"), float("nan")],
        dtype=torch.float32,
    )
    f16 = torch.tensor(
        [0.0, -0.0, 1.0, -1.5, 65504.0, 6.103515625e-05, 5.960464477539063e-08, 3.0517578125e-05,
         float("inf"), float("-inf"), float("nan"), 0.333251953125],
        dtype=torch.float16,
    )
    bf16 = torch.tensor(
        [0.0, -0.0, 1.0, -3.0, 3.3895313892515355e38, 1.1754943508222875e-38, 9.183549615799121e-41,
         float("inf"), float("-inf"), float("nan"), 0.333984375],
        dtype=torch.bfloat16,
    )
    return {
        "f32": f32,
        "f32_random_2x3x4": torch.randn(2, 3, 4, generator=g),
        "f64": torch.tensor([0.1, -1e-300, 1.7976931348623157e308, 5e-324, float("nan"), float("-inf")], dtype=torch.float64),
        "f16": f16,
        "f16_random_3x5": torch.randn(3, 5, generator=g).to(torch.float16),
        "bf16": bf16,
        "bf16_random_4x2": torch.randn(4, 2, generator=g).to(torch.bfloat16),
        "i64": torch.tensor([0, -1, 1, 2147483647, -2147483648, 123456789], dtype=torch.int64),
        "i32": torch.tensor([[0, -1], [2147483647, -2147483648]], dtype=torch.int32),
        "i16": torch.tensor([-32768, 32767, -1, 0], dtype=torch.int16),
        "i8": torch.tensor([-128, 127, -1], dtype=torch.int8),
        "u8": torch.tensor([0, 255, 7], dtype=torch.uint8),
        "bool": torch.tensor([[True, False, True]], dtype=torch.bool),
        "scalar_f32": torch.tensor(2.75, dtype=torch.float32),
        "empty_f32_0x3": torch.zeros(0, 3, dtype=torch.float32),
    }


def write_unaligned(path, tensors, metadata):
    """Like write_safetensors, but data in plain name order, so wide tensors land at odd byte offsets."""
    header = {"__metadata__": metadata}
    chunks, offset = [], 0
    for name in sorted(tensors):
        b = tensor_to_bytes(tensors[name])
        header[name] = {"dtype": TORCH_TO_ST[tensors[name].dtype], "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    hb = json.dumps(header).encode("utf-8")  # default separators, and no padding: both are allowed
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for c in chunks:
            f.write(c)


def write_fixtures():
    os.makedirs(IO_DIR, exist_ok=True)
    tensors = fixture_tensors()
    meta = {"purpose": "formers io interop fixture", "provenance": provenance(__file__, SEED)}
    expected = {"tensors": describe_tensors(tensors), "metadata": meta}
    write_safetensors(os.path.join(IO_DIR, "torch-written.safetensors"), tensors, meta)
    write_unaligned(os.path.join(IO_DIR, "torch-written-unaligned.safetensors"), tensors, meta)
    with open(os.path.join(IO_DIR, "torch-written.expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    if st_torch is not None:
        st_torch.save_file(tensors, os.path.join(IO_DIR, "torch-written-by-safetensors.safetensors"), metadata=meta)
    # One int64 value outside int32: formers must refuse it with an error naming the tensor.
    write_safetensors(
        os.path.join(IO_DIR, "torch-i64-overflow.safetensors"),
        {"ok": torch.tensor([1, 2], dtype=torch.int64), "too_big": torch.tensor([5, 2**31], dtype=torch.int64)},
        {"provenance": provenance(__file__, SEED)},
    )


def write_state_dict():
    """A torch module's state_dict (keys unchanged) plus a probe input and torch's output, under check.*."""
    torch.manual_seed(SEED)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3), torch.nn.Linear(3, 2, bias=False))
    with torch.no_grad():
        model[1].weight.normal_()
        model[1].bias.normal_()
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(SEED))
    with torch.no_grad():
        y = model.double()(x.double()).float()  # reference in float64, stored as float32
    model.float()
    tensors = dict(model.state_dict())
    tensors["check.x"] = x
    tensors["check.y"] = y
    write_safetensors(
        os.path.join(IO_DIR, "torch-state-dict.safetensors"),
        tensors,
        {"format": "pt", "module": "Sequential(Linear(4, 3), LayerNorm(3), Linear(3, 2, bias=False))", "provenance": provenance(__file__, SEED)},
    )


def write_half_widening():
    """sha256 of torch's float32 widening of all 65536 F16 and BF16 bit patterns (NaNs as 0x7fc00000).

    The test builds the same 65536 patterns itself, so no 128 KiB fixture needs committing.
    """
    import hashlib

    bits = torch.arange(65536, dtype=torch.int32).to(torch.int16)  # wraps to the raw 16-bit patterns 0..65535
    res = {"patterns": "uint16 0..65535 ascending, little-endian", "nan_bits": "0x7fc00000", "provenance": provenance(__file__, SEED)}
    for name, dt in (("F16", torch.float16), ("BF16", torch.bfloat16)):
        wide = bits.view(dt).to(torch.float32)
        nan = torch.isnan(wide)
        raw = wide.view(torch.int32).clone()
        raw[nan] = 0x7FC00000
        res[name] = {"sha256": hashlib.sha256(raw.numpy().astype("<i4").tobytes()).hexdigest(), "nan_count": int(nan.sum())}
    with open(os.path.join(IO_DIR, "half-widening.expected.json"), "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
        f.write("\n")


def check(path, out):
    tensors, metadata = read_safetensors(path)
    result = {
        "file": os.path.basename(path),
        "reader": "tooling/reference/common.py read_safetensors (torch.frombuffer)",
        "torch": torch.__version__,
        "metadata": metadata,
        "tensors": describe_tensors(tensors),
    }
    if safetensors is not None:
        other = st_torch.load_file(path)
        same = sorted(other) == sorted(tensors) and all(
            torch.equal(other[k], tensors[k]) or (other[k].is_floating_point() and torch.allclose(other[k], tensors[k], equal_nan=True, rtol=0, atol=0))
            for k in tensors
        )
        result["safetensors_package"] = {"version": safetensors.__version__, "agrees": bool(same)}
    else:
        result["safetensors_package"] = None
    with open(out, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check")
    ap.add_argument("--out")
    a = ap.parse_args()
    if a.check:
        check(a.check, a.out or "/dev/stdout")
        return
    write_fixtures()
    write_half_widening()
    write_state_dict()
    ts = os.path.join(IO_DIR, "ts-written.safetensors")
    if os.path.exists(ts):
        check(ts, os.path.join(IO_DIR, "ts-written.check.json"))
    else:
        print(f"io_interop: {ts} not found; run the tensor-core io interop test with FORMERS_UPDATE_GOLDEN=1 first")


if __name__ == "__main__":
    main()
