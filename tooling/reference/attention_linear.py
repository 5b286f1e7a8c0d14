"""Golden cases for @formers/attention-linear, from PyTorch (plain torch 1.13; no attention libraries installed).

Written by us from the papers; every efficient attention is computed here in its explicit quadratic form (masked
score matrices), independent of formers' prefix-sum, chunked and block-sparse algorithms. Random features and
projections are explicit inputs, so no RNG has to match across languages. Ops (inputs q, k, v (B, H, N, Dh),
key_padding_mask (B, Nk) bool = keep, bias (B|1, H|1, Nq, Nk) unless noted):

- attention_softmax          softmax(q k^T / sqrt(Dh) + bias) v, causal bottom-right aligned; fully masked rows -> 0.
- attention_softmax_chunked  the same reference, run by formers' online-softmax form (config chunk sizes).
- attention_linear           Katharopoulos et al. 2020: (phi(q) phi(k)^T [tril]) v / ((...) 1 + eps); config
                             feature_map, causal, causal_form; with rope_base, RoPE (half-split) rotates phi(q),
                             phi(k) in the numerator only (RoFormer sec. 3.4.3).
- attention_performer        FAVOR+ positive features with input `projection` (M, Dh), as performer-pytorch's
                             softmax_kernel (query stabiliser: row max; key stabiliser: global max non-causally,
                             none causally), eps 1e-4, then the quadratic kernel form.
- attention_norm             TransNormer NormAttention: norm over merged heads of (phi(q) phi(k)^T [tril]) v, no
                             denominator; params norm.weight (and norm.bias for layernorm).
- attention_diag             TransNormer DiagAttention: softmax restricted to same-block pairs (block chunk_size).
- attention_sparse           softmax under the dense mask of a sliding-window / strided / fixed pattern + globals.
- attention_linformer        softmax(q (E^T k)^T / sqrt(Dh)) (F^T v); params proj_k, proj_v (N, k) or (H, N, k).
- attention_multihead        torch.nn.MultiheadAttention (batch_first) itself, with formers' q_proj/k_proj/v_proj/out_proj
                             params packed into its in_proj_weight; key_padding_mask (True = keep, inverted for torch)
                             and a causal attn_mask.
- attention_gau              GAU (Hua et al. 2022), input x (B, N, D), params with formers' (FLASH-pytorch) names.
- attention_flash            FLASH mixed chunk attention, written without padding or reshaping: same-chunk
                             quadratic mask and an explicit earlier-chunk mask for the causal linear part.

Run: /usr/bin/python3 tooling/reference/attention_linear.py
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import REPO_ROOT, write_case  # noqa: E402

SCRIPT = "tooling/reference/attention_linear.py"
SEED = 7
OUT = os.path.join(REPO_ROOT, "packages", "attention-linear", "test", "golden")
g = torch.Generator().manual_seed(SEED)


def path(name):
    return os.path.join(OUT, name + ".safetensors")


def randn(*shape, scale=1.0):
    return torch.randn(*shape, generator=g, dtype=torch.float64) * scale


def case(name, op, config, inputs, fn, params=None):
    write_case(path(name), op, config, inputs, fn, params, script=SCRIPT, seed=SEED, generator=g)


# ---- masks and softmax -----------------------------------------------------------------------------------------

def allowed_mask(B, Nq, Nk, causal, keep=None, extra=None):
    """(B, 1, Nq, Nk) bool: causal bottom-right aligned, key padding, and an extra (Nq, Nk) pattern."""
    a = torch.ones(B, 1, Nq, Nk, dtype=torch.bool)
    if causal:
        i = torch.arange(Nq)[:, None] + (Nk - Nq)
        j = torch.arange(Nk)[None, :]
        a = a & (j <= i)
    if keep is not None:
        a = a & keep[:, None, None, :]
    if extra is not None:
        a = a & extra
    return a


def softmax_ref(q, k, v, causal=False, keep=None, bias=None, extra=None, scale=None):
    B, H, Nq, Dh = q.shape
    Nk = k.shape[2]
    scale = scale if scale is not None else Dh ** -0.5
    s = q @ k.transpose(-1, -2) * scale
    if bias is not None:
        s = s + bias
    allowed = allowed_mask(B, Nq, Nk, causal, keep, extra).expand(B, H, Nq, Nk)
    row_any = allowed.any(-1, keepdim=True)
    # Fully masked rows: softmax over zeros (finite), then zeroed, so neither output nor gradient is NaN.
    s = torch.where(row_any, s.masked_fill(~allowed, float("-inf")), torch.zeros_like(s))
    p = torch.softmax(s, -1) * row_any
    return p @ v


def qkv(B, H, Nq, Nk, Dh):
    return {"q": randn(B, H, Nq, Dh), "k": randn(B, H, Nk, Dh), "v": randn(B, H, Nk, Dh)}


def softmax_cases():
    B, H, Dh = 2, 2, 4
    keep = torch.ones(B, 7, dtype=torch.bool)
    keep[0, 2] = False
    keep[1, :] = False  # every key padded: rows of zeros
    ins = {**qkv(B, H, 5, 7, Dh), "key_padding_mask": keep, "bias": randn(1, H, 5, 7)}
    for op, cfgx in (("attention_softmax", {}), ("attention_softmax_chunked", {"query_chunk_size": 2, "key_chunk_size": 3})):
        stem = op.replace("attention_", "")
        case(f"{stem}-padding-bias", op, {"causal": False, **cfgx}, ins,
             lambda i, p, c: {"out": softmax_ref(i["q"], i["k"], i["v"], keep=i["key_padding_mask"], bias=i["bias"])})
        causal_ins = {**qkv(B, H, 4, 6, Dh), "bias": randn(B, 1, 4, 6)}
        case(f"{stem}-causal-cache", op, {"causal": True, **cfgx}, causal_ins,
             lambda i, p, c: {"out": softmax_ref(i["q"], i["k"], i["v"], causal=True, bias=i["bias"])})


# ---- kernelised attentions ---------------------------------------------------------------------------------------

def phi(name, x):
    if name == "elu+1":
        return F.elu(x) + 1
    if name == "relu":
        return F.relu(x)
    return x


def rope(x, base):
    """Half-split RoPE at positions 0..N-1: (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin)."""
    N, Dh = x.shape[-2], x.shape[-1]
    half = Dh // 2
    inv = base ** (-torch.arange(half, dtype=torch.float64) * 2 / Dh)
    ang = torch.arange(N, dtype=torch.float64)[:, None] * inv[None, :]
    cos = torch.cat([ang.cos(), ang.cos()], -1)
    sin = torch.cat([ang.sin(), ang.sin()], -1)
    x1, x2 = x[..., :half], x[..., half:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


def kernel_form(fq, fk, v, causal):
    A = fq @ fk.transpose(-1, -2)
    if causal:
        Nq, Nk = A.shape[-2], A.shape[-1]
        A = torch.tril(A, diagonal=Nk - Nq)
    return A @ v, A.sum(-1, keepdim=True)


def linear_ref(i, c):
    fq, fk = phi(c["feature_map"], i["q"]), phi(c["feature_map"], i["k"])
    if "key_padding_mask" in i:
        fk = fk * i["key_padding_mask"][:, None, :, None]
    num, den = kernel_form(fq, fk, i["v"], c["causal"])
    if c.get("rope_base"):
        num, _ = kernel_form(rope(fq, c["rope_base"]), rope(fk, c["rope_base"]), i["v"], c["causal"])
    return num / (den + c["eps"])


def linear_cases():
    B, H, Dh = 2, 2, 4
    keep = torch.ones(B, 6, dtype=torch.bool)
    keep[0, 4] = False
    case("linear-elu-padding", "attention_linear", {"feature_map": "elu+1", "eps": 1e-6, "causal": False},
         {**qkv(B, H, 5, 6, Dh), "key_padding_mask": keep}, lambda i, p, c: {"out": linear_ref(i, c)})
    causal_in = qkv(B, H, 7, 7, Dh)
    for form in ("parallel", "chunkwise", "recurrent"):
        case(f"linear-causal-{form}", "attention_linear", {"feature_map": "elu+1", "eps": 1e-6, "causal": True, "causal_form": form, "chunk_size": 3},
             causal_in, lambda i, p, c: {"out": linear_ref(i, c)})
    case("linear-relu-causal-cache", "attention_linear", {"feature_map": "relu", "eps": 1e-6, "causal": True, "causal_form": "chunkwise", "chunk_size": 2},
         qkv(B, H, 3, 6, Dh), lambda i, p, c: {"out": linear_ref(i, c)})
    for causal in (False, True):
        case(f"linear-rope-numerator{'-causal' if causal else ''}", "attention_linear",
             {"feature_map": "elu+1", "eps": 1e-6, "causal": causal, "causal_form": "chunkwise", "chunk_size": 4, "rope_base": 100.0},
             qkv(B, H, 6, 6, Dh), lambda i, p, c: {"out": linear_ref(i, c)})


def favor_features(x, proj, is_query, causal, eps):
    Dh, M = x.shape[-1], proj.shape[0]
    xs = x * Dh ** -0.25
    dash = xs @ proj.detach().transpose(0, 1)
    diag = (xs ** 2).sum(-1, keepdim=True) / 2
    if is_query:
        stab = dash.amax(-1, keepdim=True)
    elif not causal:
        stab = dash.amax(dim=(-1, -2), keepdim=True)
    else:
        stab = 0.0
    return M ** -0.5 * (torch.exp(dash - diag - stab) + eps)


def performer_ref(i, c):
    fq = favor_features(i["q"], i["projection"], True, c["causal"], c["eps"])
    fk = favor_features(i["k"], i["projection"], False, c["causal"], c["eps"])
    num, den = kernel_form(fq, fk, i["v"], c["causal"])
    return num / den


def performer_cases():
    B, H, Dh, M = 2, 2, 4, 6
    for causal in (False, True):
        ins = {**qkv(B, H, 6, 6, Dh), "projection": randn(M, Dh)}
        case(f"performer{'-causal' if causal else ''}", "attention_performer",
             {"causal": causal, "eps": 1e-4, "num_features": M, "causal_form": "chunkwise", "chunk_size": 4},
             ins, lambda i, p, c: {"out": performer_ref(i, c)})


def norm_ref(i, p, c):
    fq, fk = phi("elu+1", i["q"]), phi("elu+1", i["k"])
    num, _ = kernel_form(fq, fk, i["v"], c["causal"])
    B, H, N, Dh = num.shape
    m = num.permute(0, 2, 1, 3).reshape(B, N, H * Dh)
    if c["norm"] == "rmsnorm":
        n = m / torch.sqrt((m ** 2).mean(-1, keepdim=True) + c["eps"]) * p["norm.weight"]
    else:
        n = F.layer_norm(m, (H * Dh,), p["norm.weight"], p["norm.bias"], c["eps"])
    return n.reshape(B, N, H, Dh).permute(0, 2, 1, 3)


def norm_cases():
    B, H, Dh = 2, 2, 3
    for causal in (False, True):
        case(f"norm-rmsnorm{'-causal' if causal else ''}", "attention_norm",
             {"norm": "rmsnorm", "eps": 1e-6, "causal": causal, "num_heads": H, "head_dim": Dh, "causal_form": "chunkwise", "chunk_size": 3},
             qkv(B, H, 7, 7, Dh), lambda i, p, c: {"out": norm_ref(i, p, c)}, {"norm.weight": 1 + 0.1 * randn(H * Dh)})
    case("norm-layernorm-causal", "attention_norm",
         {"norm": "layernorm", "eps": 1e-5, "causal": True, "num_heads": H, "head_dim": Dh, "causal_form": "parallel"},
         qkv(B, H, 5, 5, Dh), lambda i, p, c: {"out": norm_ref(i, p, c)},
         {"norm.weight": 1 + 0.1 * randn(H * Dh), "norm.bias": 0.1 * randn(H * Dh)})


def diag_cases():
    B, H, Dh, N, C = 2, 2, 4, 7, 3
    blk = torch.arange(N) // C
    same = (blk[:, None] == blk[None, :])
    keep = torch.ones(B, N, dtype=torch.bool)
    keep[1, 5] = False
    for causal in (False, True):
        case(f"diag{'-causal' if causal else ''}", "attention_diag", {"chunk_size": C, "causal": causal},
             {**qkv(B, H, N, N, Dh), "key_padding_mask": keep},
             lambda i, p, c: {"out": softmax_ref(i["q"], i["k"], i["v"], causal=c["causal"], keep=i["key_padding_mask"], extra=same)})


def pattern_mask(pattern, Nq, Nk, g_tokens, causal):
    shift = Nk - Nq
    m = torch.zeros(Nq, Nk, dtype=torch.bool)
    for a in range(Nq):
        i = a + shift
        for j in range(Nk):
            kind = pattern["kind"]
            if kind == "sliding-window":
                ok = abs(i - j) <= pattern["window"]
            elif kind == "strided":
                l = pattern["stride"]
                ok = abs(i - j) < l or (i - j) % l == 0
            else:
                l, cc = pattern["stride"], pattern.get("summary", 1)
                ok = i // l == j // l or j % l >= l - cc
            ok = ok or i < g_tokens or j < g_tokens
            if causal and j > i:
                ok = False
            m[a, j] = ok
    return m


def sparse_cases():
    B, H, Dh = 2, 2, 4
    specs = [
        ("sparse-window-causal-global", {"kind": "sliding-window", "window": 2}, 2, 1, True, 9, 9),
        ("sparse-strided", {"kind": "strided", "stride": 3}, 3, 0, False, 9, 9),
        ("sparse-fixed-causal-cache", {"kind": "fixed", "stride": 3, "summary": 1}, 2, 1, True, 5, 8),
    ]
    for name, pattern, bs, gt, causal, Nq, Nk in specs:
        extra = pattern_mask(pattern, Nq, Nk, gt, causal)
        case(name, "attention_sparse", {"pattern": pattern, "block_size": bs, "global_tokens": gt, "causal": causal},
             qkv(B, H, Nq, Nk, Dh), lambda i, p, c, extra=extra: {"out": softmax_ref(i["q"], i["k"], i["v"], causal=c["causal"], extra=extra)})


def linformer_cases():
    B, H, Dh, N, K = 2, 2, 4, 7, 3
    for sharing in ("shared", "per-head"):
        shape = (N, K) if sharing == "shared" else (H, N, K)

        def fn(i, p, c):
            kp = p["proj_k"].transpose(-1, -2) @ i["k"]
            vp = p["proj_v"].transpose(-1, -2) @ i["v"]
            return {"out": softmax_ref(i["q"], kp, vp)}

        case(f"linformer-{sharing}", "attention_linformer", {"num_heads": H, "seq_len": N, "projected_length": K, "sharing": sharing},
             qkv(B, H, N, N, Dh), fn, {"proj_k": randn(*shape, scale=0.4), "proj_v": randn(*shape, scale=0.4)})


# ---- GAU and FLASH -------------------------------------------------------------------------------------------------

def t5_bucket(n, causal, num_buckets=32, max_distance=128):
    """T5's relative position bucket of n = i - j (query minus key), elementwise on a long tensor."""
    ret = torch.zeros_like(n)
    if not causal:
        num_buckets //= 2
        ret = ret + (n < 0).long() * num_buckets
        n = n.abs()
    else:
        n = n.clamp(min=0)
    max_exact = num_buckets // 2
    large = max_exact + (torch.log(n.double().clamp(min=1) / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)).long()
    large = large.clamp(max=num_buckets - 1)
    return ret + torch.where(n < max_exact, n, large)


def rel_bias(offsets, causal, table, scale):
    return table[t5_bucket(offsets, causal)][..., 0] * scale


def gau_params(D, s, e, heads):
    return {
        "norm.weight": 1 + 0.1 * randn(D), "norm.bias": 0.1 * randn(D),
        "to_hidden.weight": randn(2 * e, D, scale=D ** -0.5), "to_hidden.bias": 0.1 * randn(2 * e),
        "to_qk.weight": randn(s, D, scale=D ** -0.5), "to_qk.bias": 0.1 * randn(s),
        "GAMMA": randn(heads, s, scale=0.5), "BETA": 0.1 * randn(heads, s),
        "rel_pos_bias.relative_attention_bias.weight": 0.1 * randn(32, 1),
        "to_out.weight": randn(D, e, scale=e ** -0.5), "to_out.bias": 0.1 * randn(D),
    }


def shared_proj(x, p, e):
    xn = F.layer_norm(x, (x.shape[-1],), p["norm.weight"], p["norm.bias"], 1e-5)
    hid = F.silu(F.linear(xn, p["to_hidden.weight"], p["to_hidden.bias"]))
    z = F.silu(F.linear(xn, p["to_qk.weight"], p["to_qk.bias"]))
    return hid[..., :e], hid[..., e:], z


def gau_ref(i, p, c):
    x = i["x"]
    N, e, s = x.shape[1], c["hidden_dim"], c["query_key_dim"]
    v, u, z = shared_proj(x, p, e)
    q = z * p["offsetscale.gamma"][0] + p["offsetscale.beta"][0]
    k = z * p["offsetscale.gamma"][1] + p["offsetscale.beta"][1]
    pos = torch.arange(N)
    bias = rel_bias(pos[:, None] - pos[None, :], c["causal"], p["rel_pos_bias.relative_attention_bias.weight"], s ** 0.5)
    a = F.relu(q @ k.transpose(-1, -2) / N + bias) ** 2
    if c["causal"]:
        a = torch.tril(a)
    return {"out": F.linear(u * (a @ v), p["to_out.weight"], p["to_out.bias"]) + x}


def flash_ref(i, p, c):
    x = i["x"]
    N, e, s, G = x.shape[1], c["hidden_dim"], c["query_key_dim"], c["group_size"]
    v, u, z = shared_proj(x, p, e)
    gm, bt = p["qk_offset_scale.gamma"], p["qk_offset_scale.beta"]
    qq, lq, qk, lk = (z * gm[h] + bt[h] for h in range(4))
    pos = torch.arange(N)
    chunk = pos // G
    same = chunk[:, None] == chunk[None, :]
    local = (pos % G)[:, None] - (pos % G)[None, :]
    bias = rel_bias(local, c["causal"], p["rel_pos_bias.relative_attention_bias.weight"], s ** 0.5)
    a = F.relu(qq @ qk.transpose(-1, -2) / G + bias) ** 2 * same
    if c["causal"]:
        a = torch.tril(a)
        earlier = chunk[:, None] > chunk[None, :]
        lin = ((lq @ lk.transpose(-1, -2)) * earlier / G) @ v
    else:
        lin = lq @ (lk.transpose(-1, -2) @ v) / N
    return {"out": F.linear(u * (a @ v + lin), p["to_out.weight"], p["to_out.bias"]) + x}


def block_cases():
    D, s, e, B = 6, 4, 12, 2
    for causal in (False, True):
        prm = gau_params(D, s, e, 2)
        prm["offsetscale.gamma"], prm["offsetscale.beta"] = prm.pop("GAMMA"), prm.pop("BETA")
        case(f"gau{'-causal' if causal else ''}", "attention_gau", {"dim": D, "query_key_dim": s, "expansion_factor": 2, "hidden_dim": e, "causal": causal},
             {"x": randn(B, 7, D)}, gau_ref, prm)
        prm = gau_params(D, s, e, 4)
        prm["qk_offset_scale.gamma"], prm["qk_offset_scale.beta"] = prm.pop("GAMMA"), prm.pop("BETA")
        case(f"flash{'-causal' if causal else ''}", "attention_flash",
             {"dim": D, "group_size": 3, "query_key_dim": s, "expansion_factor": 2, "hidden_dim": e, "causal": causal},
             {"x": randn(B, 8, D)}, flash_ref, prm)


def mha_cases():
    B, N, D, H = 2, 5, 8, 2
    keep = torch.ones(B, N, dtype=torch.bool)
    keep[1, 3] = False
    prm = {f"{n}_proj.{w}": (randn(D, D, scale=D ** -0.5) if w == "weight" else 0.1 * randn(D)) for n in ("q", "k", "v", "out") for w in ("weight", "bias")}

    def fn(i, p, c):
        # torch.nn.MultiheadAttention's functional core, with its packed in-projection built from our three.
        w_in = torch.cat([p["q_proj.weight"], p["k_proj.weight"], p["v_proj.weight"]])
        b_in = torch.cat([p["q_proj.bias"], p["k_proj.bias"], p["v_proj.bias"]])
        out, _ = F.multi_head_attention_forward(
            i["x"].transpose(0, 1), i["x"].transpose(0, 1), i["x"].transpose(0, 1), D, H,
            w_in, b_in, None, None, False, 0.0, p["out_proj.weight"], p["out_proj.bias"],
            training=False, key_padding_mask=~i["key_padding_mask"], need_weights=False,
            attn_mask=torch.triu(torch.ones(N, N, dtype=torch.bool), 1) if c["causal"] else None)
        return {"out": out.transpose(0, 1)}

    for causal in (False, True):
        case(f"multihead-attention{'-causal' if causal else ''}", "attention_multihead", {"embed_dim": D, "num_heads": H, "causal": causal},
             {"x": randn(B, N, D), "key_padding_mask": keep}, fn, dict(prm))


if __name__ == "__main__":
    softmax_cases()
    linear_cases()
    performer_cases()
    norm_cases()
    diag_cases()
    sparse_cases()
    linformer_cases()
    block_cases()
    mha_cases()
    print("wrote", len([f for f in os.listdir(OUT) if f.endswith(".safetensors")]), "cases to", OUT)
