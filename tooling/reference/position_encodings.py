"""Golden cases for @formers/position-encodings, from PyTorch.

Writes packages/position-encodings/test/golden/position-encodings.safetensors. Every entry is named
`<case>.<field>`; `__metadata__` holds `provenance` (torch and python versions, script, seed, date) and `cases`, a JSON
object of case name -> config. The safetensors file is written by hand (8-byte little-endian header length, JSON
header padded to 8 bytes, raw little-endian bytes), so the `safetensors` package is not needed.

Each family is reimplemented here in torch from its paper and the published reference code, written by us:
- T5 bucket: HuggingFace T5Attention._relative_position_bucket / mesh-tensorflow, in float32 exactly as they do
  (the float32 log and the truncating cast decide the bucket edges, so the golden must use the same precision).
- ALiBi slopes: the schedule of Press et al. 2022 (get_slopes in the ALiBi repository), non-powers of two included.
- Sinusoidal: Vaswani et al. 2017 (interleaved sin/cos), the concatenated [sin | cos] table (tensor2tensor,
  Transformer-XL) and the 2-D sin-cos table of MAE (He et al. 2022).
- RoPE: RoFormer (Su et al. 2021) in both layouts, GPT-J's rotate_every_two (interleaved) and GPT-NeoX/LLaMA's
  rotate_half; the rope parameter functions of transformers' modeling_rope_utils (default, linear, dynamic NTK,
  YaRN, llama3), reimplemented in float64 and checked against closed forms below.
- timm's resample_abs_pos_embed (bicubic with and without antialias) for the learned 2-D table.

Gradients: for cases with a gradient, L = sum(output * cotangent) with a stored random cotangent, differentiated
in float64 with respect to every float input and parameter.

Run: /usr/bin/python3 tooling/reference/position_encodings.py
"""
import datetime
import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "packages", "position-encodings", "test", "golden", "position-encodings.safetensors")
SEED = 20250301
gen = torch.Generator().manual_seed(SEED)

ST = {torch.float64: "F64", torch.float32: "F32", torch.int64: "I64", torch.int32: "I32"}
tensors = {}
cases = {}


def put(case, field, t):
    tensors[f"{case}.{field}"] = t.detach().contiguous()


def write_safetensors(path, entries, metadata):
    if sys.byteorder != "little":
        raise SystemExit("tensor bytes are written in host order, which must be little-endian")
    header = {"__metadata__": metadata}
    chunks, offset = [], 0
    for name in sorted(entries):
        t = entries[name]
        b = t.numpy().tobytes()
        header[name] = {"dtype": ST[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for c in chunks:
            f.write(c)


def randn(*shape):
    return torch.randn(*shape, generator=gen, dtype=torch.float64).to(torch.float32)


def with_grads(case, inputs, fn):
    """Store float32 inputs, the float64 reference output and its gradients w.r.t. every input."""
    leaves = {k: v.to(torch.float64).clone().requires_grad_(True) for k, v in inputs.items()}
    out = fn(**leaves)
    cot = randn(*out.shape)
    loss = (out * cot.to(torch.float64)).sum()
    grads = torch.autograd.grad(loss, list(leaves.values()))
    for k, v in inputs.items():
        put(case, k, v)
    put(case, "output", out.to(torch.float32))
    put(case, "cotangent", cot)
    for k, g in zip(leaves, grads):
        put(case, f"grad_{k}", g.to(torch.float32))


# ---- T5 relative position bucket -------------------------------------------------------------------------------


def t5_bucket(relative_position, bidirectional, num_buckets, max_distance):
    """relative_position = key - query (int64). Float32 log, as HF and mesh-tensorflow."""
    buckets = torch.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        buckets += (relative_position > 0).to(torch.long) * num_buckets
        n = torch.abs(relative_position)
    else:
        n = -torch.min(relative_position, torch.zeros_like(relative_position))
    max_exact = num_buckets // 2
    is_small = n < max_exact
    large = max_exact + (
        torch.log(n.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)
    ).to(torch.long)
    large = torch.min(large, torch.full_like(large, num_buckets - 1))
    return buckets + torch.where(is_small, n, large)


rel = torch.cat([torch.arange(-700, 701), torch.tensor([-100000, -4096, -1025, -1024, 1024, 1025, 4096, 100000])])
put("t5_bucket", "relative_position", rel.to(torch.int32))
T5_CONFIGS = []
for bidirectional in [True, False]:
    for nb, md in [(32, 128), (64, 256), (16, 64), (8, 20), (10, 40), (32, 33)]:
        T5_CONFIGS.append(dict(bidirectional=bidirectional, num_buckets=nb, max_distance=md))
for i, c in enumerate(T5_CONFIGS):
    b = t5_bucket(rel, c["bidirectional"], c["num_buckets"], c["max_distance"])
    assert int(b.min()) >= 0 and int(b.max()) < c["num_buckets"]
    put("t5_bucket", f"buckets{i}", b.to(torch.int32))
cases["t5_bucket"] = {"configs": T5_CONFIGS}

# T5 bias module: HF T5Attention.compute_bias with a seeded relative_attention_bias; also a state_dict file.
H, NB, MD = 3, 16, 40
weight = randn(NB, H)
for name, bidir, q_len, k_len, offset in [("t5_bias_enc", True, 6, 9, 0), ("t5_bias_dec", False, 3, 11, 8)]:
    ctx = torch.arange(q_len)[:, None] + offset
    mem = torch.arange(k_len)[None, :]
    buckets = t5_bucket(mem - ctx, bidir, NB, MD)  # (Tq, Tk)

    def bias_fn(weight, buckets=buckets):
        return F.embedding(buckets, weight).permute(2, 0, 1).unsqueeze(0)  # (1, H, Tq, Tk)

    with_grads(name, {"weight": weight}, bias_fn)
    cases[name] = dict(num_heads=H, num_buckets=NB, max_distance=MD, bidirectional=bidir, query_length=q_len,
                       key_length=k_len, offset=offset)

# A PyTorch module's state_dict, as HF's T5Attention names it, written on its own so a test can load it unchanged.
t5_module = torch.nn.Module()
t5_module.relative_attention_bias = torch.nn.Embedding(NB, H)
with torch.no_grad():
    t5_module.relative_attention_bias.weight.copy_(weight)
STATE_DICT_OUT = os.path.join(os.path.dirname(OUT), "t5-bias-state-dict.safetensors")
STATE_DICT = {k: v.detach().clone() for k, v in t5_module.state_dict().items()}

# ---- ALiBi ------------------------------------------------------------------------------------------------------


def alibi_slopes(n):
    def power_of_two(n):
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start**i for i in range(n)]

    if math.log2(n).is_integer():
        return power_of_two(n)
    closest = 2 ** math.floor(math.log2(n))
    return power_of_two(closest) + alibi_slopes(2 * closest)[0::2][: n - closest]


ALIBI_HEADS = list(range(1, 17)) + [20, 24, 32, 40, 64, 96]
for n in ALIBI_HEADS:
    s = alibi_slopes(n)
    # Closed form for powers of two: m_h = 2^(-8h/n), h = 1..n.
    if math.log2(n).is_integer():
        assert all(abs(s[h] - 2 ** (-8 * (h + 1) / n)) < 1e-15 for h in range(n))
    put("alibi", f"slopes{n}", torch.tensor(s, dtype=torch.float64))
cases["alibi"] = {"heads": ALIBI_HEADS}
s6 = torch.tensor(alibi_slopes(6), dtype=torch.float64)
q_pos = torch.arange(4)[:, None] + 3  # queries are the last 4 of 7 keys
k_pos = torch.arange(7)[None, :]
put("alibi_bias", "output", (-s6[:, None, None] * (k_pos - q_pos).abs()).unsqueeze(0).to(torch.float32))
cases["alibi_bias"] = dict(num_heads=6, query_length=4, key_length=7)

# ---- Sinusoidal -------------------------------------------------------------------------------------------------


def sinusoidal_interleaved(n, d, base=10000.0):
    """Vaswani et al.: PE[p, 2i] = sin(p / base^(2i/d)), PE[p, 2i+1] = cos(p / base^(2i/d))."""
    pe = torch.zeros(n, d, dtype=torch.float64)
    pos = torch.arange(n, dtype=torch.float64)[:, None]
    div = torch.exp(torch.arange(0, d, 2, dtype=torch.float64) * -(math.log(base) / d))
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)
    return pe


def sinusoidal_concat(n, d, base=10000.0):
    """Transformer-XL's table: the same frequencies, laid out as [sin | cos]."""
    inv_freq = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    ang = torch.outer(torch.arange(n, dtype=torch.float64), inv_freq)
    return torch.cat([ang.sin(), ang.cos()], dim=-1)


for d, n, base in [(16, 50, 10000.0), (6, 9, 10000.0), (32, 20, 500.0)]:
    case = f"sin_{d}_{n}_{int(base)}"
    put(case, "interleaved", sinusoidal_interleaved(n, d, base))
    put(case, "concat", sinusoidal_concat(n, d, base))
    cases[case] = dict(dim=d, num_positions=n, base=base)


def mae_1d(d, pos):
    omega = torch.arange(d // 2, dtype=torch.float64) / (d / 2.0)
    omega = 1.0 / 10000**omega
    out = torch.outer(pos.reshape(-1), omega)
    return torch.cat([out.sin(), out.cos()], dim=1)


def mae_2d(d, gh, gw, cls_token):
    """MAE get_2d_sincos_pos_embed, generalised to gh x gw: meshgrid(w, h) puts the column index first."""
    grid_w, grid_h = torch.meshgrid(torch.arange(gw, dtype=torch.float64), torch.arange(gh, dtype=torch.float64),
                                    indexing="xy")
    emb = torch.cat([mae_1d(d // 2, grid_w), mae_1d(d // 2, grid_h)], dim=1)
    if cls_token:
        emb = torch.cat([torch.zeros(1, d, dtype=torch.float64), emb], dim=0)
    return emb


for d, gh, gw, cls in [(16, 4, 4, True), (8, 3, 5, False), (32, 2, 7, True)]:
    case = f"sincos2d_{d}_{gh}x{gw}_{int(cls)}"
    put(case, "table", mae_2d(d, gh, gw, cls))
    cases[case] = dict(dim=d, grid=[gh, gw], cls_token=cls)

# ---- RoPE parameter functions (transformers' modeling_rope_utils, reimplemented in float64) ----------------------


def rope_default(dim, base):
    return 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim)), 1.0


def rope_linear(dim, base, factor):
    inv, att = rope_default(dim, base)
    return inv / factor, att


def rope_dynamic(dim, base, factor, max_pos, seq_len):
    seq_len = seq_len if seq_len is not None and seq_len > max_pos else max_pos
    base = base * ((factor * seq_len / max_pos) - (factor - 1)) ** (dim / (dim - 2))
    return rope_default(dim, base)[0], 1.0


def yarn_mscale(scale, mscale=1.0):
    return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0


def rope_yarn(dim, base, factor, max_pos, original_max_pos=None, beta_fast=32.0, beta_slow=1.0, mscale=None,
              mscale_all_dim=None, attention_factor=None, truncate=True):
    if original_max_pos is not None:
        factor = max_pos / original_max_pos
    else:
        original_max_pos = max_pos
    if attention_factor is None:
        if mscale and mscale_all_dim:
            attention_factor = yarn_mscale(factor, mscale) / yarn_mscale(factor, mscale_all_dim)
        else:
            attention_factor = yarn_mscale(factor)

    def correction_dim(rotations):
        # The dimension whose wavelength 2 pi base^(2d/D) fits `rotations` times into the original context.
        return (dim * math.log(original_max_pos / (rotations * 2 * math.pi))) / (2 * math.log(base))

    low, high = correction_dim(beta_fast), correction_dim(beta_slow)
    if truncate:
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    if low == high:
        high += 0.001
    ramp = ((torch.arange(dim // 2, dtype=torch.float64) - low) / (high - low)).clamp(0, 1)
    extrapolation_factor = 1 - ramp
    pos_freqs = base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    inv = (1.0 / (factor * pos_freqs)) * (1 - extrapolation_factor) + (1.0 / pos_freqs) * extrapolation_factor
    return inv, attention_factor


def rope_llama3(dim, base, factor, low_freq_factor, high_freq_factor, original_max_pos):
    inv, att = rope_default(dim, base)
    low_wavelen = original_max_pos / low_freq_factor
    high_wavelen = original_max_pos / high_freq_factor
    wavelen = 2 * math.pi / inv
    scaled = torch.where(wavelen > low_wavelen, inv / factor, inv)
    smooth = (original_max_pos / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
    return torch.where(medium, smoothed, scaled), att


ROPE_CASES = {
    "default_64": (dict(rope_type="default", dim=64, base=10000.0), rope_default(64, 10000.0)),
    "default_10_base500k": (dict(rope_type="default", dim=10, base=500000.0), rope_default(10, 500000.0)),
    "linear_f4": (dict(rope_type="linear", dim=32, base=10000.0, factor=4.0), rope_linear(32, 10000.0, 4.0)),
    "dynamic_short": (dict(rope_type="dynamic", dim=32, base=10000.0, factor=2.0, max_position_embeddings=128,
                           seq_len=100), rope_dynamic(32, 10000.0, 2.0, 128, 100)),
    "dynamic_long": (dict(rope_type="dynamic", dim=32, base=10000.0, factor=2.0, max_position_embeddings=128,
                          seq_len=300), rope_dynamic(32, 10000.0, 2.0, 128, 300)),
    "yarn_f8": (dict(rope_type="yarn", dim=64, base=10000.0, factor=8.0, max_position_embeddings=4096),
                rope_yarn(64, 10000.0, 8.0, 4096)),
    "yarn_orig_mscale": (dict(rope_type="yarn", dim=64, base=10000.0, factor=40.0, max_position_embeddings=163840,
                              original_max_position_embeddings=4096, mscale=1.0, mscale_all_dim=0.707,
                              beta_fast=32.0, beta_slow=1.0),
                         rope_yarn(64, 10000.0, 40.0, 163840, original_max_pos=4096, mscale=1.0,
                                   mscale_all_dim=0.707)),
    "yarn_no_truncate": (dict(rope_type="yarn", dim=48, base=1000000.0, factor=4.0, max_position_embeddings=32768,
                              truncate=False, beta_fast=16.0, beta_slow=2.0),
                         rope_yarn(48, 1000000.0, 4.0, 32768, beta_fast=16.0, beta_slow=2.0, truncate=False)),
    "llama3": (dict(rope_type="llama3", dim=128, base=500000.0, factor=8.0, low_freq_factor=1.0,
                    high_freq_factor=4.0, original_max_position_embeddings=8192),
               rope_llama3(128, 500000.0, 8.0, 1.0, 4.0, 8192)),
}
# Closed-form checks of the reimplementation.
d0, _ = rope_default(32, 10000.0)
assert torch.allclose(rope_linear(32, 10000.0, 4.0)[0], d0 / 4, rtol=0, atol=0)
assert torch.equal(rope_dynamic(32, 10000.0, 2.0, 128, 100)[0], d0)  # no change inside the trained context
ntk = rope_dynamic(32, 10000.0, 2.0, 128, 256)[0]  # at seq_len = factor * max: base' = base * factor^(d/(d-2))
assert torch.allclose(ntk, rope_default(32, 10000.0 * 3.0 ** (32 / 30))[0], rtol=1e-14)
y_inv, y_att = rope_yarn(64, 10000.0, 8.0, 4096)
assert abs(y_att - (0.1 * math.log(8.0) + 1)) < 1e-15  # YaRN eq. 22: sqrt(1/t) = 0.1 ln s + 1
d64, _ = rope_default(64, 10000.0)
assert torch.allclose(y_inv[:5], d64[:5], rtol=1e-15) and torch.allclose(y_inv[-5:], d64[-5:] / 8, rtol=1e-15)
for name, (cfg, (inv, att)) in ROPE_CASES.items():
    put(f"rope_{name}", "inv_freq", inv)
    put(f"rope_{name}", "attention_factor", torch.tensor([att], dtype=torch.float64))
    cases[f"rope_{name}"] = cfg

# ---- RoPE application -------------------------------------------------------------------------------------------


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2 :]
    return torch.cat([-x2, x1], dim=-1)


def rotate_every_two(x):
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack([-x2, x1], dim=-1).flatten(-2)


def apply_rope(x, positions, inv_freq, layout, rotary_dim, scaling):
    ang = torch.outer(positions.to(torch.float64), inv_freq)  # (T, rot/2)
    if layout == "rotate-half":
        emb = torch.cat([ang, ang], dim=-1)
        rot = rotate_half
    else:
        emb = ang.repeat_interleave(2, dim=-1)
        rot = rotate_every_two
    cos, sin = emb.cos() * scaling, emb.sin() * scaling
    x_rot, x_pass = x[..., :rotary_dim], x[..., rotary_dim:]
    return torch.cat([x_rot * cos + rot(x_rot) * sin, x_pass], dim=-1)


for layout in ["rotate-half", "interleaved"]:
    for name, dh, partial, offset, scaling_case in [("full", 8, 1.0, 0, None), ("partial", 12, 0.5, 5, None),
                                                    ("yarn", 8, 1.0, 3, "yarn")]:
        rotary_dim = int(dh * partial)
        if scaling_case == "yarn":
            inv, att = rope_yarn(rotary_dim, 10000.0, 4.0, 16)
        else:
            inv, att = rope_default(rotary_dim, 10000.0)
        B, Hh, T = 2, 2, 5
        positions = torch.arange(T) + offset
        case = f"rope_apply_{layout}_{name}"
        with_grads(case, {"q": randn(B, Hh, T, dh)},
                   lambda q: apply_rope(q, positions, inv, layout, rotary_dim, att))
        cases[case] = dict(layout=layout, head_dim=dh, partial_rotary_factor=partial, offset=offset,
                           scaling=dict(rope_type="yarn", factor=4.0, max_position_embeddings=16)
                           if scaling_case == "yarn" else None)

# ---- Learned absolute tables ------------------------------------------------------------------------------------

T, D, NPOS = 5, 4, 9
with_grads("learned1d", {"x": randn(2, T, D), "weight": randn(NPOS, D)}, lambda x, weight: x + weight[2 : 2 + T])
cases["learned1d"] = dict(num_positions=NPOS, dim=D, offset=2)


def resample_abs_pos_embed(posemb, new_size, old_size, num_prefix_tokens, antialias):
    prefix, grid = posemb[:, :num_prefix_tokens], posemb[:, num_prefix_tokens:]
    d = posemb.shape[-1]
    grid = grid.reshape(1, old_size[0], old_size[1], d).permute(0, 3, 1, 2)  # (1, D, H, W)
    grid = F.interpolate(grid, size=new_size, mode="bicubic", antialias=antialias, align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(1, -1, d)  # (1, H'W', D)
    return torch.cat([prefix, grid], dim=1)


pos_embed = randn(1, 1 + 4 * 5, 6)
for name, new_size, aa in [("up_aa", (6, 7), True), ("up_plain", (6, 7), False), ("down_aa", (3, 2), True),
                           ("down_plain", (3, 2), False)]:
    case = f"resample_{name}"
    with_grads(case, {"pos_embed": pos_embed},
               lambda pos_embed: resample_abs_pos_embed(pos_embed, new_size, (4, 5), 1, aa))
    cases[case] = dict(old_size=[4, 5], new_size=list(new_size), num_prefix_tokens=1, antialias=aa)

# ---- PEG (CPVT) ----------------------------------------------------------------------------------------------


def peg2d(x, weight, bias, h, w, prefix):
    """CPVT PosCNN: depthwise k x k conv with zero padding (k-1)/2 and bias over the grid, plus the residual."""
    b, n, c = x.shape
    cls, feat = x[:, :prefix], x[:, prefix:]
    grid = feat.transpose(1, 2).reshape(b, c, h, w)  # (B, C, H, W)
    k = weight.shape[-1]
    out = F.conv2d(grid, weight, bias, padding=(k - 1) // 2, groups=c) + grid
    return torch.cat([cls, out.flatten(2).transpose(1, 2)], dim=1)  # (B, N, C)


def peg1d(x, weight, bias, causal, prefix):
    cls, seq = x[:, :prefix], x[:, prefix:]
    ch = seq.transpose(1, 2)  # (B, C, T)
    k = weight.shape[-1]
    inp = F.pad(ch, (k - 1, 0)) if causal else ch
    out = F.conv1d(inp, weight, bias, padding=0 if causal else (k - 1) // 2, groups=ch.shape[1]) + ch
    return torch.cat([cls, out.transpose(1, 2)], dim=1)


peg_state = None
for name, c, k, (h, w), prefix in [("peg2d_k3_cls", 4, 3, (3, 4), 1), ("peg2d_k5", 3, 5, (5, 3), 0)]:
    inputs = {"x": randn(2, prefix + h * w, c), "weight": randn(c, 1, k, k) * 0.5, "bias": randn(c)}
    with_grads(name, inputs, lambda x, weight, bias: peg2d(x, weight, bias, h, w, prefix))
    cases[name] = dict(dim=c, kernel_size=k, grid=[h, w], num_prefix_tokens=prefix)
    if peg_state is None:
        pos_cnn = torch.nn.Module()
        pos_cnn.proj = torch.nn.Sequential(torch.nn.Conv2d(c, c, k, 1, (k - 1) // 2, bias=True, groups=c))
        with torch.no_grad():
            pos_cnn.proj[0].weight.copy_(inputs["weight"])
            pos_cnn.proj[0].bias.copy_(inputs["bias"])
        peg_state = {kk: v.detach().clone() for kk, v in pos_cnn.state_dict().items()}
for name, c, k, causal, prefix in [("peg1d_sym", 3, 3, False, 1), ("peg1d_causal", 2, 4, True, 0)]:
    inputs = {"x": randn(2, prefix + 6, c), "weight": randn(c, 1, k) * 0.5, "bias": randn(c)}
    with_grads(name, inputs, lambda x, weight, bias: peg1d(x, weight, bias, causal, prefix))
    cases[name] = dict(dim=c, kernel_size=k, causal=causal, num_prefix_tokens=prefix)

provenance = json.dumps(dict(torch=torch.__version__, python=sys.version.split()[0],
                             script="tooling/reference/position_encodings.py", seed=SEED,
                             date=datetime.date.today().isoformat()), sort_keys=True)
write_safetensors(OUT, tensors, {"provenance": provenance, "cases": json.dumps(cases, sort_keys=True)})
write_safetensors(STATE_DICT_OUT, STATE_DICT, {"provenance": provenance, "expected_output": "t5_bias_enc.output"})
write_safetensors(os.path.join(os.path.dirname(OUT), "peg-state-dict.safetensors"), peg_state,
                  {"provenance": provenance, "expected_output": "peg2d_k3_cls.output"})
print(f"wrote {len(tensors)} tensors, {len(cases)} cases to {os.path.relpath(OUT, ROOT)}")
