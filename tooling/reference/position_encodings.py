"""Golden cases for @formers/position-encodings, from PyTorch.

Writes one conformance case file per case into packages/position-encodings/test/golden/<case>.safetensors (format:
docs/conformance.md): tensors `input.<n>`, `param.<n>`, `output.<n>`, `cotangent.<n>`, `grad.<n>`; `__metadata__`
with `op` (the conformance op registered in packages/position-encodings/test/conformance-ops.ts), `config` (the
case's options, torch-side names), `dtype`, `reference_precision` and `provenance` (torch and python versions,
script, seed, date). Files are written with common.py's writer. Two further files hold PyTorch modules' state
dicts (T5 bias, PEG), loaded unchanged by the tests. The folder is cleared and rewritten on every run.

Each family is reimplemented here in torch from its paper and the published reference code, written by us:
- T5 bucket: HuggingFace T5Attention._relative_position_bucket / mesh-tensorflow, in float32 exactly as they do
  (the float32 log and the truncating cast decide the bucket edges, so the golden must use the same precision).
- ALiBi slopes: the schedule of Press et al. 2022 (get_slopes in the ALiBi repository), non-powers of two included;
  2-D ALiBi as CROMA (Euclidean patch distance).
- Sinusoidal: Vaswani et al. 2017 (interleaved sin/cos), the concatenated [sin | cos] table (tensor2tensor,
  Transformer-XL) and the 2-D sin-cos table of MAE (He et al. 2022).
- RoPE: RoFormer (Su et al. 2021) in both layouts, GPT-J's rotate_every_two (interleaved) and GPT-NeoX/LLaMA's
  rotate_half; the rope parameter functions of transformers' modeling_rope_utils (default, linear, dynamic NTK,
  YaRN, llama3), reimplemented in float64 and checked against closed forms below; RoPE with linear attention
  (RoFormer eq. 19); 2-D RoPE axial and mixed (Heo et al. 2024) as complex products, as their code.
- timm's resample_abs_pos_embed (bicubic with and without antialias) for the learned 2-D table.
- PEG (CPVT) 2-D and 1-D; FLOATER (RK4 over an MLP); multiplicative embeddings; Shaw et al. 2018; Transformer-XL
  with the original _rel_shift trick (asserted equal to the naive O(N^2) loop); DeBERTa-v2's
  make_log_bucket_position (float32, as HF) and disentangled c2p/p2c; complex order embeddings (Wang et al. 2020);
  the Swin/BEiT 2-D relative position bias with timm's index construction.

Gradients: for cases with a gradient, L = sum(output * cotangent) with a stored random cotangent, differentiated
in float64 with respect to every float input and parameter.

Run: /usr/bin/python3 tooling/reference/position_encodings.py
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import provenance as make_provenance, write_safetensors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(ROOT, "packages", "position-encodings", "test", "golden")
SCRIPT = os.path.abspath(__file__)
SEED = 20250301
gen = torch.Generator().manual_seed(SEED)

# case -> {conformance tensor name: tensor}; case -> config; case -> op name (the conformance op it runs through).
tensors = {}
cases = {}
ops = {}


def put(case, name, t):
    """Store `t` as `<group>.<name>` of `case` (group: input, param, output, cotangent or grad)."""
    tensors.setdefault(case, {})[name] = t.detach().contiguous()


def randn(*shape):
    return torch.randn(*shape, generator=gen, dtype=torch.float64).to(torch.float32)


def with_grads(case, inputs, fn, params=()):
    """Store float32 inputs (params: the names that are module parameters), the float64 reference output `out`, a
    random cotangent and the gradients of sum(out * cotangent) w.r.t. every input and parameter."""
    leaves = {k: v.to(torch.float64).clone().requires_grad_(True) for k, v in inputs.items()}
    out = fn(**leaves)
    cot = randn(*out.shape)
    loss = (out * cot.to(torch.float64)).sum()
    grads = torch.autograd.grad(loss, list(leaves.values()))
    for k, v in inputs.items():
        put(case, f"{'param' if k in params else 'input'}.{k}", v)
    put(case, "output.out", out.to(torch.float32))
    put(case, "cotangent.out", cot)
    for k, g in zip(leaves, grads):
        put(case, f"grad.{k}", g.to(torch.float32))


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


# Dense where every configuration's edges are (max_distance <= 256), sparse far out.
FAR = [256, 257, 300, 384, 511, 512, 513, 1024, 1025, 4096, 100000]
rel = torch.cat([torch.arange(-260, 261), torch.tensor([-d for d in FAR] + FAR)])
put("t5_bucket", "input.relative_position", rel.to(torch.int32))
T5_CONFIGS = []
for bidirectional in [True, False]:
    for nb, md in [(32, 128), (64, 256), (16, 64), (8, 20), (10, 40), (32, 33)]:
        T5_CONFIGS.append(dict(bidirectional=bidirectional, num_buckets=nb, max_distance=md))
for i, c in enumerate(T5_CONFIGS):
    b = t5_bucket(rel, c["bidirectional"], c["num_buckets"], c["max_distance"])
    assert int(b.min()) >= 0 and int(b.max()) < c["num_buckets"]
    put("t5_bucket", f"output.buckets{i}", b.to(torch.int32))
cases["t5_bucket"] = {"configs": T5_CONFIGS}
ops["t5_bucket"] = "t5_relative_position_bucket"

# T5 bias module: HF T5Attention.compute_bias with a seeded relative_attention_bias; also a state_dict file.
H, NB, MD = 3, 16, 40
weight = randn(NB, H)
for name, bidir, q_len, k_len, offset in [("t5_bias_enc", True, 6, 9, 0), ("t5_bias_dec", False, 3, 11, 8)]:
    ctx = torch.arange(q_len)[:, None] + offset
    mem = torch.arange(k_len)[None, :]
    buckets = t5_bucket(mem - ctx, bidir, NB, MD)  # (Tq, Tk)

    def bias_fn(weight, buckets=buckets):
        return F.embedding(buckets, weight).permute(2, 0, 1).unsqueeze(0)  # (1, H, Tq, Tk)

    with_grads(name, {"weight": weight}, bias_fn, params={"weight"})
    ops[name] = "t5_relative_position_bias"
    cases[name] = dict(num_heads=H, num_buckets=NB, max_distance=MD, bidirectional=bidir, query_length=q_len,
                       key_length=k_len, offset=offset)

# A PyTorch module's state_dict, as HF's T5Attention names it, written on its own so a test can load it unchanged.
t5_module = torch.nn.Module()
t5_module.relative_attention_bias = torch.nn.Embedding(NB, H)
with torch.no_grad():
    t5_module.relative_attention_bias.weight.copy_(weight)
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
    put("alibi", f"output.slopes{n}", torch.tensor(s, dtype=torch.float64))
cases["alibi"] = {"heads": ALIBI_HEADS}
ops["alibi"] = "alibi_slopes"
s6 = torch.tensor(alibi_slopes(6), dtype=torch.float64)
q_pos = torch.arange(4)[:, None] + 3  # queries are the last 4 of 7 keys
k_pos = torch.arange(7)[None, :]
put("alibi_bias", "output.out", (-s6[:, None, None] * (k_pos - q_pos).abs()).unsqueeze(0).to(torch.float32))
cases["alibi_bias"] = dict(num_heads=6, query_length=4, key_length=7)
ops["alibi_bias"] = "alibi_bias"

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
    put(case, "output.interleaved", sinusoidal_interleaved(n, d, base))
    put(case, "output.concat", sinusoidal_concat(n, d, base))
    ops[case] = "sinusoidal_position_encoding"
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
    put(case, "output.table", mae_2d(d, gh, gw, cls))
    ops[case] = "sincos_2d_position_encoding"
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
    ops[f"rope_{name}"] = "rope_parameters"
    put(f"rope_{name}", "output.inv_freq", inv)
    put(f"rope_{name}", "output.attention_factor", torch.tensor([att], dtype=torch.float64))
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
        ops[case] = "rotary_embedding"
        with_grads(case, {"q": randn(B, Hh, T, dh)},
                   lambda q: apply_rope(q, positions, inv, layout, rotary_dim, att))
        cases[case] = dict(layout=layout, head_dim=dh, partial_rotary_factor=partial, offset=offset,
                           scaling=dict(rope_type="yarn", factor=4.0, max_position_embeddings=16)
                           if scaling_case == "yarn" else None)

# ---- Learned absolute tables ------------------------------------------------------------------------------------

T, D, NPOS = 5, 4, 9
with_grads("learned1d", {"x": randn(2, T, D), "weight": randn(NPOS, D)}, lambda x, weight: x + weight[2 : 2 + T], params={"weight"})
cases["learned1d"] = dict(num_positions=NPOS, dim=D, offset=2)
ops["learned1d"] = "learned_positional_embedding"


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
    ops[case] = "resample_abs_pos_embed"

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
    with_grads(name, inputs, lambda x, weight, bias: peg2d(x, weight, bias, h, w, prefix), params={"weight", "bias"})
    ops[name] = "position_encoding_generator"
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
    with_grads(name, inputs, lambda x, weight, bias: peg1d(x, weight, bias, causal, prefix), params={"weight", "bias"})
    ops[name] = "position_encoding_generator_1d"
    cases[name] = dict(dim=c, kernel_size=k, causal=causal, num_prefix_tokens=prefix)

# ---- 2-D RoPE for images (Heo et al. 2024, RoPE-ViT) --------------------------------------------------------


def grid_xy(h, w):
    t = torch.arange(h * w, dtype=torch.float64)
    return t % w, torch.div(t, w, rounding_mode="floor")  # column x, row y of each patch (row-major)


def rope2d_axial_angles(dh, h, w, base):
    mag = 1.0 / (base ** (torch.arange(0, dh, 4, dtype=torch.float64)[: dh // 4] / dh))  # (Dh/4)
    tx, ty = grid_xy(h, w)
    return torch.cat([torch.outer(tx, mag), torch.outer(ty, mag)], dim=-1)  # (N, Dh/2): columns, then rows


def rope2d_mixed_angles(freqs, h, w):
    tx, ty = grid_xy(h, w)
    return tx[None, :, None] * freqs[0][:, None, :] + ty[None, :, None] * freqs[1][:, None, :]  # (heads, N, Dh/2)


def rope2d_apply(x, angles, prefix, layout):
    """Rotate pair j of every patch token by angles[..., j] as a complex product, as the paper's code does."""
    cls, patches = x[:, :, :prefix], x[:, :, prefix:]
    dh = x.shape[-1]
    if layout == "rotate-half":  # pairs (j, j + Dh/2) -> the interleaved order, rotate, and back
        perm = torch.stack([torch.arange(dh // 2), torch.arange(dh // 2) + dh // 2], dim=-1).flatten()
        patches = patches[..., perm]
    z = torch.view_as_complex(patches.reshape(*patches.shape[:-1], dh // 2, 2).contiguous())
    out = torch.view_as_real(z * torch.polar(torch.ones_like(angles), angles)).flatten(-2)
    if layout == "rotate-half":
        out = out[..., torch.argsort(perm)]
    return torch.cat([cls, out], dim=2)


for name, layout, (h, w), prefix in [("rope2d_axial", "interleaved", (3, 4), 1),
                                     ("rope2d_axial_rotate_half", "rotate-half", (2, 3), 0)]:
    dh, heads, base = 8, 2, 100.0
    ang = rope2d_axial_angles(dh, h, w, base)
    with_grads(name, {"q": randn(2, heads, prefix + h * w, dh)}, lambda q: rope2d_apply(q, ang, prefix, layout))
    ops[name] = "rotary_embedding_2d"
    cases[name] = dict(mode="axial", layout=layout, dim=dh, num_heads=heads, base=base, grid=[h, w],
                       num_prefix_tokens=prefix)

for name, layout, (h, w), prefix in [("rope2d_mixed", "interleaved", (2, 3), 1),
                                     ("rope2d_mixed_rotate_half", "rotate-half", (3, 2), 0)]:
    dh, heads = 8, 3
    # Explicit frequencies (not the random init): the case checks the rotation and its gradient w.r.t. freqs.
    freqs = randn(2, heads, dh // 2) * 0.5
    with_grads(name, {"q": randn(2, heads, prefix + h * w, dh), "freqs": freqs},
               lambda q, freqs: rope2d_apply(q, rope2d_mixed_angles(freqs, h, w), prefix, layout), params={"freqs"})
    ops[name] = "rotary_embedding_2d"
    cases[name] = dict(mode="mixed", layout=layout, dim=dh, num_heads=heads, grid=[h, w], num_prefix_tokens=prefix)

# ---- RoPE with linear attention (RoFormer sec. 3.4.3, eq. 19) ----------------------------------------------------


def rope_linear_attention(q, k, v, base, causal, eps=1e-6):
    """Rotate elu+1 features in the numerator only (interleaved pairs, RoFormer); the denominator stays positive."""
    fq, fk = F.elu(q) + 1, F.elu(k) + 1
    m = fq.shape[-1]
    inv = 1.0 / (base ** (torch.arange(0, m, 2, dtype=torch.float64) / m))
    nq, nk = q.shape[2], k.shape[2]
    rq = apply_rope(fq, torch.arange(nq) + (nk - nq), inv, "interleaved", m, 1.0)
    rk = apply_rope(fk, torch.arange(nk), inv, "interleaved", m, 1.0)
    num = rq @ rk.transpose(-1, -2)  # (B, H, Nq, Nk), the quadratic form of the same sums
    den = fq @ fk.transpose(-1, -2)
    if causal:
        mask = torch.ones(nq, nk, dtype=torch.float64).tril(nk - nq)
        num, den = num * mask, den * mask
    return (num @ v) / (den.sum(-1, keepdim=True) + eps)


for name, causal, nq in [("rope_linear_attention", False, 5), ("rope_linear_attention_causal", True, 3)]:
    inputs = {"q": randn(2, 2, nq, 6), "k": randn(2, 2, 5, 6), "v": randn(2, 2, 5, 3)}
    with_grads(name, inputs, lambda q, k, v: rope_linear_attention(q, k, v, 10000.0, causal))
    ops[name] = "rope_linear_attention"
    cases[name] = dict(layout="interleaved", base=10000.0, causal=causal, eps=1e-6)

# ---- Multiplicative absolute embedding ------------------------------------------------------------------------

with_grads("multiplicative", {"x": randn(2, 4, 3), "weight": 1 + 0.3 * randn(7, 3)}, lambda x, weight: x * weight[1:5],
           params={"weight"})
ops["multiplicative"] = "multiplicative_positional_embedding"
cases["multiplicative"] = dict(num_positions=7, dim=3, offset=1)

# ---- FLOATER: dp/dt = MLP([p, t]), fixed-step RK4 ---------------------------------------------------------------


def floater_positions(p0, w0, b0, w2, b2, length, interval, steps):
    def f(t, p):
        z = torch.cat([p, torch.full((1, 1), t, dtype=p.dtype)], dim=1)
        return torch.tanh(z @ w0.T + b0) @ w2.T + b2

    h = interval / steps
    p = p0.reshape(1, -1)
    rows = [p]
    for i in range(1, length):
        for s_ in range(steps):
            t = ((i - 1) * steps + s_) * h
            k1 = f(t, p)
            k2 = f(t + h / 2, p + h / 2 * k1)
            k3 = f(t + h / 2, p + h / 2 * k2)
            k4 = f(t + h, p + h * k3)
            p = p + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        rows.append(p)
    return torch.cat(rows, dim=0)


FD, FH, FT = 4, 5, 6
floater_inputs = {"x": randn(2, FT, FD), "p0": randn(FD), "net.0.weight": randn(FH, FD + 1) * 0.5, "net.0.bias": randn(FH),
                  "net.2.weight": randn(FD, FH) * 0.5, "net.2.bias": randn(FD)}


def floater_fn(**kw):
    table = floater_positions(kw["p0"], kw["net.0.weight"], kw["net.0.bias"], kw["net.2.weight"], kw["net.2.bias"],
                              2 + FT, 0.25, 2)
    return kw["x"] + table[2:]


with_grads("floater", floater_inputs, floater_fn, params={"p0", "net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias"})
ops["floater"] = "floater_position_encoding"
cases["floater"] = dict(dim=FD, hidden_dim=FH, interval=0.25, steps_per_position=2, offset=2)

# ---- Shaw et al. 2018: relative keys and values clipped at k ---------------------------------------------------


def shaw_attention(q, k, v, relative_keys, relative_values, max_rel, offset):
    tq, tk, dh = q.shape[2], k.shape[2], q.shape[3]
    dist = torch.arange(tk)[None, :] - (torch.arange(tq)[:, None] + offset)
    idx = dist.clamp(-max_rel, max_rel) + max_rel  # (Tq, Tk)
    a_k, a_v = relative_keys[idx], relative_values[idx]  # (Tq, Tk, Dh)
    logits = (q @ k.transpose(-1, -2) + torch.einsum("bhid,ijd->bhij", q, a_k)) / math.sqrt(dh)
    alpha = logits.softmax(-1)
    return alpha @ v + torch.einsum("bhij,ijd->bhid", alpha, a_v)


for name, tq, offset in [("shaw", 5, 0), ("shaw_decode", 2, 4)]:
    inputs = {"q": randn(2, 2, tq, 4), "k": randn(2, 2, 6, 4), "v": randn(2, 2, 6, 4), "relative_keys": randn(7, 4),
              "relative_values": randn(7, 4)}
    with_grads(name, inputs, lambda q, k, v, relative_keys, relative_values: shaw_attention(
        q, k, v, relative_keys, relative_values, 3, offset), params={"relative_keys", "relative_values"})
    ops[name] = "shaw_relative_attention"
    cases[name] = dict(head_dim=4, max_relative_position=3, query_offset=offset)

# ---- Transformer-XL relative encoding, with the _rel_shift trick of the original code -------------------------


def xl_scores(q, k, r_w_bias, r_r_bias, r_net_weight, base=10000.0):
    """AC + BD as Transformer-XL's RelPartialLearnableMultiHeadAttn, distances klen .. -qlen + 1 (XLNet's range)."""
    tq, tk, d = q.shape[2], k.shape[2], r_net_weight.shape[1]
    pos_seq = torch.arange(tk, -tq, -1.0, dtype=torch.float64)
    inv_freq = 1.0 / (base ** (torch.arange(0.0, d, 2.0, dtype=torch.float64) / d))
    sinusoid = torch.outer(pos_seq, inv_freq)
    pos_emb = torch.cat([sinusoid.sin(), sinusoid.cos()], dim=-1)  # (L, D)
    h, dh = r_w_bias.shape
    r_head_k = (pos_emb @ r_net_weight.T).view(tk + tq, h, dh)  # (L, H, Dh)
    ac = torch.einsum("bhid,bhjd->bhij", q + r_w_bias[None, :, None], k)
    bd = torch.einsum("bhid,lhd->bhil", q + r_r_bias[None, :, None], r_head_k)  # (B, H, Tq, L)
    b_, h_, i_, l_ = bd.shape  # XLNet's rel_shift_bnij: view as (L, Tq), drop a row, view back, keep Tk columns
    bd = bd.reshape(b_, h_, l_, i_)[:, :, 1:, :].reshape(b_, h_, i_, l_ - 1)[..., :tk]
    return ac + bd


def xl_naive(q, k, r_w_bias, r_r_bias, r_net_weight, base=10000.0):
    tq, tk, d = q.shape[2], k.shape[2], r_net_weight.shape[1]
    mlen = tk - tq
    h, dh = r_w_bias.shape
    out = torch.zeros(q.shape[0], h, tq, tk, dtype=torch.float64)
    inv_freq = 1.0 / (base ** (torch.arange(0.0, d, 2.0, dtype=torch.float64) / d))
    for i in range(tq):
        for j in range(tk):
            a = (mlen + i - j) * inv_freq
            r = (torch.cat([a.sin(), a.cos()]) @ r_net_weight.T).view(h, dh)
            out[:, :, i, j] = ((q[:, :, i] + r_w_bias) * k[:, :, j]).sum(-1) + ((q[:, :, i] + r_r_bias) * r).sum(-1)
    return out


xl_inputs = {"q": randn(2, 2, 3, 4), "k": randn(2, 2, 5, 4), "r_w_bias": randn(2, 4), "r_r_bias": randn(2, 4),
             "r_net.weight": randn(8, 6) * 0.5}
xl_fn = lambda **kw: xl_scores(kw["q"], kw["k"], kw["r_w_bias"], kw["r_r_bias"], kw["r_net.weight"])  # noqa: E731
naive = xl_naive(*(xl_inputs[n].double() for n in ["q", "k", "r_w_bias", "r_r_bias", "r_net.weight"]))
assert torch.allclose(xl_fn(**{n: t.double() for n, t in xl_inputs.items()}), naive, rtol=1e-12, atol=1e-12)
with_grads("transformer_xl", xl_inputs, xl_fn, params={"r_w_bias", "r_r_bias", "r_net.weight"})
ops["transformer_xl"] = "transformer_xl_relative_scores"
cases["transformer_xl"] = dict(d_model=6, num_heads=2, head_dim=4)

# ---- DeBERTa disentangled attention with log buckets (HF DebertaV2) -------------------------------------------


def make_log_bucket_position(relative_pos, bucket_size, max_position):
    sign = torch.sign(relative_pos)
    mid = bucket_size // 2
    abs_pos = torch.where((relative_pos < mid) & (relative_pos > -mid), torch.tensor(mid - 1).type_as(relative_pos),
                          torch.abs(relative_pos))
    log_pos = torch.ceil(torch.log(abs_pos / mid) / torch.log(torch.tensor((max_position - 1) / mid)) * (mid - 1)) + mid
    return torch.where(abs_pos <= mid, relative_pos.type_as(log_pos), log_pos * sign).to(torch.long)


drel = torch.cat([torch.arange(-140, 141), torch.arange(141, 600, 7), -torch.arange(141, 600, 7), torch.tensor([511, 512, 513, -511, -512, -513, 4096, -4096])])
put("deberta_bucket", "input.relative_position", drel.to(torch.int32))
DEB_CONFIGS = [(256, 512), (8, 20), (32, 128), (6, 9)]
for i, (bs, mp) in enumerate(DEB_CONFIGS):
    put("deberta_bucket", f"output.buckets{i}", make_log_bucket_position(drel, bs, mp).to(torch.int32))
ops["deberta_bucket"] = "deberta_log_bucket_position"
cases["deberta_bucket"] = {"configs": [dict(bucket_size=b, max_position=m) for b, m in DEB_CONFIGS]}


def deberta_scores(q, k, rel, wk, bk, wq, bq, buckets, max_pos):
    h, dh = q.shape[1], q.shape[3]
    span = buckets if buckets > 0 else max_pos
    tq, tk = q.shape[2], k.shape[2]
    rel_pos = torch.arange(tq)[:, None] - torch.arange(tk)[None, :]
    if buckets > 0:
        rel_pos = make_log_bucket_position(rel_pos, buckets, max_pos)
    scale = math.sqrt(dh * 3)
    pos_key = (rel @ wk.T + bk).view(2 * span, h, dh).transpose(0, 1)  # (H, 2 span, Dh)
    pos_query = (rel @ wq.T + bq).view(2 * span, h, dh).transpose(0, 1)
    score = q @ k.transpose(-1, -2) / scale
    c2p = q @ pos_key.transpose(-1, -2)  # (B, H, Tq, 2 span)
    c2p_pos = torch.clamp(rel_pos + span, 0, 2 * span - 1)
    score = score + torch.gather(c2p, -1, c2p_pos.expand(q.shape[0], h, tq, tk)) / scale
    p2c = k @ pos_query.transpose(-1, -2)  # (B, H, Tk, 2 span)
    p2c_pos = torch.clamp(-rel_pos + span, 0, 2 * span - 1).T  # (Tk, Tq)
    score = score + torch.gather(p2c, -1, p2c_pos.expand(q.shape[0], h, tk, tq)).transpose(-1, -2) / scale
    return score


for name, tq, tk in [("deberta", 6, 6), ("deberta_rect", 3, 7)]:
    D_, H_, B_, MP_ = 8, 2, 4, 10
    inputs = {"q": randn(2, H_, tq, 4), "k": randn(2, H_, tk, 4), "rel_embeddings.weight": randn(2 * B_, D_),
              "pos_key_proj.weight": randn(8, D_) * 0.5, "pos_key_proj.bias": randn(8),
              "pos_query_proj.weight": randn(8, D_) * 0.5, "pos_query_proj.bias": randn(8)}
    with_grads(name, inputs, lambda **kw: deberta_scores(
        kw["q"], kw["k"], kw["rel_embeddings.weight"], kw["pos_key_proj.weight"], kw["pos_key_proj.bias"],
        kw["pos_query_proj.weight"], kw["pos_query_proj.bias"], B_, MP_),
        params={"rel_embeddings.weight", "pos_key_proj.weight", "pos_key_proj.bias", "pos_query_proj.weight",
                "pos_query_proj.bias"})
    ops[name] = "deberta_relative_attention"
    cases[name] = dict(hidden_size=D_, num_heads=H_, head_dim=4, position_buckets=B_, max_relative_positions=MP_)

# ---- Complex order embeddings (Wang et al. 2020) ---------------------------------------------------------------



def complex_order_cases(prefix, ids, pos, tables, config):
    """Cases `<prefix>_re` and `<prefix>_im`: r e^{i (omega pos + theta)} per word and dimension; pos broadcasts
    against (..., T, D): (T, 1) in 1-D, (T, D) on a grid."""
    for part in ["re", "im"]:
        name = f"{prefix}_{part}"

        def complex_fn(part=part, **kw):
            ang = kw["frequency.weight"][ids] * pos + kw["phase.weight"][ids]
            r = kw["amplitude.weight"][ids]
            return r * (ang.cos() if part == "re" else ang.sin())

        with_grads(name, dict(zip(["amplitude.weight", "frequency.weight", "phase.weight"], tables)), complex_fn,
                   params={"amplitude.weight", "frequency.weight", "phase.weight"})
        put(name, "input.ids", ids.to(torch.int32))
        ops[name] = "complex_order_embedding"
        cases[name] = dict(config, part=part)


cids = torch.tensor([[0, 3, 1, 3], [2, 2, 4, 0]])
complex_order_cases("complex_order", cids, torch.arange(cids.shape[1], dtype=torch.float64)[:, None] + 2,
                    (randn(5, 3), randn(5, 3), randn(5, 3)), dict(num_embeddings=5, dim=3, offset=2))

# ---- 2-D relative position bias (Swin, BEiT; timm's index construction) ----------------------------------------


def swin_index(wh, ww, cls_token):
    coords = torch.stack(torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing="ij")).flatten(1)  # (2, N)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0).contiguous()  # (N, N, 2)
    rel[:, :, 0] += wh - 1
    rel[:, :, 1] += ww - 1
    rel[:, :, 0] *= 2 * ww - 1
    index = rel.sum(-1)
    if not cls_token:
        return index
    nd = (2 * wh - 1) * (2 * ww - 1) + 3
    full = torch.zeros(wh * ww + 1, wh * ww + 1, dtype=index.dtype)
    full[1:, 1:] = index
    full[0, 0:] = nd - 3
    full[0:, 0] = nd - 2
    full[0, 0] = nd - 1
    return full


for name, (wh, ww), cls, heads in [("relpos2d_swin", (3, 4), False, 2), ("relpos2d_beit", (2, 3), True, 3)]:
    rows = (2 * wh - 1) * (2 * ww - 1) + (3 if cls else 0)
    idx = swin_index(wh, ww, cls)
    with_grads(name, {"relative_position_bias_table": randn(rows, heads)},
               lambda relative_position_bias_table: relative_position_bias_table[idx.view(-1)].view(
                   idx.shape[0], idx.shape[1], -1).permute(2, 0, 1).unsqueeze(0),
               params={"relative_position_bias_table"})
    ops[name] = "relative_position_bias_2d"
    cases[name] = dict(window_size=[wh, ww], num_heads=heads, cls_token=cls)

# ---- 2-D ALiBi (CROMA): -m_h * Euclidean distance between patches ---------------------------------------------


def alibi_2d(num_heads, gh, gw, prefix):
    points = [(r, c) for r in range(gh) for c in range(gw)]
    dist = torch.tensor([[math.dist(a, b) for b in points] for a in points], dtype=torch.float64)  # (N, N)
    slopes = torch.tensor(alibi_slopes(num_heads), dtype=torch.float64)
    bias = torch.zeros(num_heads, prefix + gh * gw, prefix + gh * gw, dtype=torch.float64)
    bias[:, prefix:, prefix:] = -slopes[:, None, None] * dist
    return bias.unsqueeze(0)


put("alibi2d", "output.out", alibi_2d(6, 3, 4, 1).to(torch.float32))
ops["alibi2d"] = "alibi_bias_2d"
cases["alibi2d"] = dict(num_heads=6, grid=[3, 4], num_prefix_tokens=1)

# ---- 2-D variants on an H x W patch grid (prefix tokens first, patches row-major; prefix tokens get no position) ---
# Written pair by pair from each family's definition (explicit loops or per-pair tensors), independent of the
# gathers the TypeScript side uses. Relative families: row-offset term + column-offset term from separate tables
# (iRPE's per-direction "cross" method, Wu et al. 2021); absolute families: first D/2 channels at the patch's column,
# last D/2 at its row (as MAE's 2-D sin-cos table above).


def grid_rc(gh, gw):
    """Row and column of every patch (H W,), int64, row-major."""
    rows = torch.arange(gh).repeat_interleave(gw)
    cols = torch.arange(gw).repeat(gh)
    return rows, cols


def pad_prefix(pairs, prefix):
    """(Np, Np, ...) per patch pair -> (P + Np, P + Np, ...) with zeros wherever a prefix token is involved."""
    n = prefix + pairs.shape[0]
    out = torch.zeros((n, n) + tuple(pairs.shape[2:]), dtype=pairs.dtype)
    out[prefix:, prefix:] = pairs
    return out


def axial_rows(table, gh, gw):
    """(L, D) -> (H W, D): first D/2 channels at the patch's column, last D/2 at its row."""
    rows, cols = grid_rc(gh, gw)
    d = table.shape[1]
    return torch.cat([table[cols, : d // 2], table[rows, d // 2:]], dim=1)


# T5 2-D: B^y[bucket(row_j - row_i)] + B^x[bucket(col_j - col_i)], bidirectional buckets per axis.
T2_GRID, T2_P, T2_H, T2_NB, T2_MD = (3, 4), 1, 2, 8, 5
t2_rows, t2_cols = grid_rc(*T2_GRID)
t2_by = t5_bucket(t2_rows[None, :] - t2_rows[:, None], True, T2_NB, T2_MD)  # (Np, Np), key - query
t2_bx = t5_bucket(t2_cols[None, :] - t2_cols[:, None], True, T2_NB, T2_MD)
assert int(t2_bx.max()) >= T2_NB // 2 + T2_NB // 4  # the grid reaches the log buckets


def t5_2d_fn(**kw):
    pairs = kw["relative_attention_bias_y.weight"][t2_by] + kw["relative_attention_bias_x.weight"][t2_bx]  # (Np, Np, H)
    return pad_prefix(pairs, T2_P).permute(2, 0, 1).unsqueeze(0)  # (1, H, N, N)


with_grads("t5_bias_2d", {"relative_attention_bias_y.weight": randn(T2_NB, T2_H),
                          "relative_attention_bias_x.weight": randn(T2_NB, T2_H)}, t5_2d_fn,
           params={"relative_attention_bias_y.weight", "relative_attention_bias_x.weight"})
ops["t5_bias_2d"] = "t5_relative_position_bias_2d"
cases["t5_bias_2d"] = dict(num_heads=T2_H, num_buckets=T2_NB, max_distance=T2_MD, grid=list(T2_GRID), num_prefix_tokens=T2_P)

# Shaw 2-D: a_ij = w_y[clip(row_j - row_i) + k] + w_x[clip(col_j - col_i) + k], keys and values.
S2_GRID, S2_P, S2_K = (2, 3), 1, 1
s2_rows, s2_cols = grid_rc(*S2_GRID)
s2_n = S2_P + S2_GRID[0] * S2_GRID[1]
s2_iy = (s2_rows[None, :] - s2_rows[:, None]).clamp(-S2_K, S2_K) + S2_K
s2_ix = (s2_cols[None, :] - s2_cols[:, None]).clamp(-S2_K, S2_K) + S2_K


def shaw_2d_fn(q, k, v, relative_keys_y, relative_keys_x, relative_values_y, relative_values_x):
    a_k = pad_prefix(relative_keys_y[s2_iy] + relative_keys_x[s2_ix], S2_P)  # (N, N, Dh)
    a_v = pad_prefix(relative_values_y[s2_iy] + relative_values_x[s2_ix], S2_P)
    logits = (q @ k.transpose(-1, -2) + torch.einsum("bhid,ijd->bhij", q, a_k)) / math.sqrt(q.shape[3])
    alpha = logits.softmax(-1)
    return alpha @ v + torch.einsum("bhij,ijd->bhid", alpha, a_v)


with_grads("shaw_2d", {"q": randn(2, 2, s2_n, 4), "k": randn(2, 2, s2_n, 4), "v": randn(2, 2, s2_n, 4),
                       "relative_keys_y": randn(3, 4), "relative_keys_x": randn(3, 4),
                       "relative_values_y": randn(3, 4), "relative_values_x": randn(3, 4)}, shaw_2d_fn,
           params={"relative_keys_y", "relative_keys_x", "relative_values_y", "relative_values_x"})
ops["shaw_2d"] = "shaw_relative_attention_2d"
cases["shaw_2d"] = dict(head_dim=4, max_relative_position=S2_K, grid=list(S2_GRID), num_prefix_tokens=S2_P)

# DeBERTa 2-D: P_ij = E_y[delta(row_i - row_j)] + E_x[delta(col_i - col_j)], projected per pair, c2p and p2c.
D2_GRID, D2_P, D2_D, D2_H, D2_B, D2_MP = (3, 4), 1, 8, 2, 4, 10
d2_rows, d2_cols = grid_rc(*D2_GRID)
d2_n = D2_P + D2_GRID[0] * D2_GRID[1]
d2_dy = torch.clamp(make_log_bucket_position(d2_rows[:, None] - d2_rows[None, :], D2_B, D2_MP) + D2_B, 0, 2 * D2_B - 1)
d2_dx = torch.clamp(make_log_bucket_position(d2_cols[:, None] - d2_cols[None, :], D2_B, D2_MP) + D2_B, 0, 2 * D2_B - 1)
assert int((d2_dx - D2_B).abs().max()) > D2_B // 2  # the grid reaches the log buckets


def deberta_2d_fn(**kw):
    q, k = kw["q"], kw["k"]
    h, dh = q.shape[1], q.shape[3]
    rel = kw["rel_embeddings_y.weight"][d2_dy] + kw["rel_embeddings_x.weight"][d2_dx]  # (Np, Np, D): P_ij
    mask = pad_prefix(torch.ones(rel.shape[0], rel.shape[1], dtype=q.dtype), D2_P)  # 0 for prefix pairs
    pos_key = pad_prefix(rel @ kw["pos_key_proj.weight"].T + kw["pos_key_proj.bias"], D2_P).view(d2_n, d2_n, h, dh)
    pos_query = pad_prefix(rel @ kw["pos_query_proj.weight"].T + kw["pos_query_proj.bias"], D2_P).view(d2_n, d2_n, h, dh)
    c2p = torch.einsum("bhid,ijhd->bhij", q, pos_key) * mask  # Q^c_i . K^r_ij
    p2c = torch.einsum("bhjd,jihd->bhij", k, pos_query) * mask  # K^c_j . Q^r_ji
    return (q @ k.transpose(-1, -2) + c2p + p2c) / math.sqrt(3 * dh)


with_grads("deberta_2d", {"q": randn(1, D2_H, d2_n, 4), "k": randn(1, D2_H, d2_n, 4),
                          "rel_embeddings_y.weight": randn(2 * D2_B, D2_D), "rel_embeddings_x.weight": randn(2 * D2_B, D2_D),
                          "pos_key_proj.weight": randn(8, D2_D) * 0.5, "pos_key_proj.bias": randn(8),
                          "pos_query_proj.weight": randn(8, D2_D) * 0.5, "pos_query_proj.bias": randn(8)}, deberta_2d_fn,
           params={"rel_embeddings_y.weight", "rel_embeddings_x.weight", "pos_key_proj.weight", "pos_key_proj.bias",
                   "pos_query_proj.weight", "pos_query_proj.bias"})
ops["deberta_2d"] = "deberta_relative_attention_2d"
cases["deberta_2d"] = dict(hidden_size=D2_D, num_heads=D2_H, head_dim=4, position_buckets=D2_B, max_relative_positions=D2_MP,
                           grid=list(D2_GRID), num_prefix_tokens=D2_P)

# Transformer-XL 2-D: (q_i + u) . k_j + (q_i + v) . W_r [R_{D/2}(dx) | R_{D/2}(dy)], by explicit loops over pairs.
X2_GRID, X2_P, X2_D = (2, 3), 1, 8
x2_rows, x2_cols = grid_rc(*X2_GRID)
x2_n = X2_P + X2_GRID[0] * X2_GRID[1]


def xl_2d_naive(q, k, r_w_bias, r_r_bias, r_net_weight, base=10000.0):
    h, dh = r_w_bias.shape
    half = X2_D // 2
    inv_freq = 1.0 / (base ** (torch.arange(0.0, half, 2.0, dtype=torch.float64) / half))
    rows = []
    for i in range(x2_n):
        cols_ = []
        for j in range(x2_n):
            s_ = ((q[:, :, i] + r_w_bias) * k[:, :, j]).sum(-1)  # (B, H)
            if i >= X2_P and j >= X2_P:
                a, b = i - X2_P, j - X2_P
                ax = float(x2_cols[a] - x2_cols[b]) * inv_freq
                ay = float(x2_rows[a] - x2_rows[b]) * inv_freq
                r = (torch.cat([ax.sin(), ax.cos(), ay.sin(), ay.cos()]) @ r_net_weight.T).view(h, dh)
                s_ = s_ + ((q[:, :, i] + r_r_bias) * r).sum(-1)
            cols_.append(s_)
        rows.append(torch.stack(cols_, -1))
    return torch.stack(rows, -2)  # (B, H, N, N)


with_grads("transformer_xl_2d", {"q": randn(2, 2, x2_n, 4), "k": randn(2, 2, x2_n, 4), "r_w_bias": randn(2, 4),
                                 "r_r_bias": randn(2, 4), "r_net.weight": randn(8, X2_D) * 0.5},
           lambda **kw: xl_2d_naive(kw["q"], kw["k"], kw["r_w_bias"], kw["r_r_bias"], kw["r_net.weight"]),
           params={"r_w_bias", "r_r_bias", "r_net.weight"})
ops["transformer_xl_2d"] = "transformer_xl_relative_scores"
cases["transformer_xl_2d"] = dict(d_model=X2_D, num_heads=2, head_dim=4, grid=list(X2_GRID), num_prefix_tokens=X2_P)

# FLOATER 2-D: the 1-D trajectory to max(H, W) positions, channels split by axis; prefix tokens + 0.
F2_GRID, F2_P = (2, 3), 1
f2_n = F2_P + F2_GRID[0] * F2_GRID[1]
f2_inputs = {"x": randn(2, f2_n, FD), "p0": randn(FD), "net.0.weight": randn(FH, FD + 1) * 0.5, "net.0.bias": randn(FH),
             "net.2.weight": randn(FD, FH) * 0.5, "net.2.bias": randn(FD)}


def floater_2d_fn(**kw):
    table = floater_positions(kw["p0"], kw["net.0.weight"], kw["net.0.bias"], kw["net.2.weight"], kw["net.2.bias"],
                              max(F2_GRID), 0.25, 1)  # (max(H, W), D)
    grid = torch.cat([torch.zeros(F2_P, FD, dtype=table.dtype), axial_rows(table, *F2_GRID)], dim=0)  # (N, D)
    return kw["x"] + grid


with_grads("floater_2d", f2_inputs, floater_2d_fn, params={"p0", "net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias"})
ops["floater_2d"] = "floater_position_encoding"
cases["floater_2d"] = dict(dim=FD, hidden_dim=FH, interval=0.25, steps_per_position=1, grid=list(F2_GRID), num_prefix_tokens=F2_P)

# Multiplicative 2-D: x * [w[col, :D/2] | w[row, D/2:]], prefix tokens * 1.
M2_GRID, M2_P = (2, 3), 1
m2_n = M2_P + M2_GRID[0] * M2_GRID[1]


def multiplicative_2d_fn(x, weight):
    return x * torch.cat([torch.ones(M2_P, 4, dtype=weight.dtype), axial_rows(weight, *M2_GRID)], dim=0)


with_grads("multiplicative_2d", {"x": randn(2, m2_n, 4), "weight": 1 + 0.3 * randn(4, 4)}, multiplicative_2d_fn,
           params={"weight"})
ops["multiplicative_2d"] = "multiplicative_positional_embedding"
cases["multiplicative_2d"] = dict(num_positions=4, dim=4, grid=list(M2_GRID), num_prefix_tokens=M2_P)

# Complex order embeddings 2-D: pos = column for j < D/2, row for j >= D/2, 0 for prefix tokens.
C2_GRID, C2_P = (2, 2), 1
c2_ids = torch.tensor([[0, 3, 1, 3, 2], [2, 2, 4, 0, 1]])
c2_rows, c2_cols = grid_rc(*C2_GRID)
c2_pos = torch.zeros(C2_P + 4, 4, dtype=torch.float64)
c2_pos[C2_P:, :2] = c2_cols[:, None].double()
c2_pos[C2_P:, 2:] = c2_rows[:, None].double()
complex_order_cases("complex_order_2d", c2_ids, c2_pos, (randn(5, 4), randn(5, 4), randn(5, 4)),
                    dict(num_embeddings=5, dim=4, grid=list(C2_GRID), num_prefix_tokens=C2_P))

# ---- Writing: one conformance case file per case (docs/conformance.md) ---------------------------------------

prov = make_provenance(SCRIPT, SEED)
for old in os.listdir(GOLDEN):
    if old.endswith(".safetensors"):
        os.remove(os.path.join(GOLDEN, old))
for case, entries in tensors.items():
    if case not in ops:
        raise SystemExit(f"case {case} has no op")
    float64 = any(t.dtype == torch.float64 for t in entries.values())
    meta = {"op": ops[case], "config": json.dumps(cases.get(case, {}), sort_keys=True),
            "dtype": "float64" if float64 else "float32", "reference_precision": "float64", "provenance": prov}
    write_safetensors(os.path.join(GOLDEN, f"{case}.safetensors"), entries, meta)
# PyTorch modules' state_dicts, written on their own (no "op" key) so a test can load them unchanged.
write_safetensors(os.path.join(GOLDEN, "t5-bias-state-dict.safetensors"), STATE_DICT,
                  {"provenance": prov, "expected_output": "t5_bias_enc output.out"})
write_safetensors(os.path.join(GOLDEN, "peg-state-dict.safetensors"), peg_state,
                  {"provenance": prov, "expected_output": "peg2d_k3_cls output.out"})
size = sum(os.path.getsize(os.path.join(GOLDEN, f)) for f in os.listdir(GOLDEN))
print(f"wrote {len(tensors)} cases ({size} bytes) to {os.path.relpath(GOLDEN, ROOT)}")
