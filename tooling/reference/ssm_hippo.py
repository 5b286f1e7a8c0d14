"""Golden cases for @formers/ssm-hippo, from PyTorch (plain torch; mamba_ssm and transformers are not installed).

Written by us from the papers and the published reference code (HiPPO: Gu et al. 2020; S4D: Gu et al. 2022 and its
minimal s4d.py layer; Mamba: Gu and Dao 2023, mamba_simple.py and HuggingFace MambaMixer's slow path). Ops:

- hippo_transition  config {measure, N, ...}: A and B in float64. LegT is written in the state-spaces form (orthonormal,
                    then halved), which must equal formers' orthonormal LegT with theta = 2; LMU LegT from Voelker et
                    al. 2019; LegS closed form; LagT in the state-spaces form I/2 - tril(1) (diagonalShift 0.5).
- discretize        inputs A (N, N), B (N, 1); config {dt, method}: Ad, Bd in float64 (ZOH through torch.linalg.matrix_exp,
                    an implementation independent of formers' Padé expm).
- selective_scan    inputs u, delta, A, B, C, D, z, delta_bias; config {delta_softplus}: y (sequential loop).
- s4d_kernel        params log_dt, C, log_A_real, A_imag; config {L, method}: the kernel (H, L) via complex torch.
- s4d               input u (B, H, L); params of s4d.py's S4D: out (B, H, L).
- mamba_mixer       input hidden_states (B, L, D); params with MambaMixer state_dict names: out (B, L, D).
- mamba_model       input input_ids (B, L); params with HF MambaModel's exact state_dict keys (embeddings.weight,
                    layers.N.norm.weight, layers.N.mixer.*, norm_f.weight): the last hidden state (B, L, D). This is
                    our re-implementation of HF's MambaModel structure (transformers is not installed here), not HF's
                    code. The same parameters are also written as a plain state_dict file, mamba-model-hf-state-dict.
- s4_kernel         params log_dt, log_A_real, A_imag, P, B, C (= C~) in the DPLR eigenbasis; config {L}: the S4
                    kernel by a method independent of formers' Cauchy/Woodbury one: the dense complex system
                    A = diag(Lambda) - P P^*, bilinear Ad, Bd, C = C~ (I - Ad^L)^-1 and K_l = Re(C Ad^l Bd) by
                    repeated products, in float64 (the case dtype).
- hippo_transition  also FouT in the paper's Appendix D.3 form.

Run: /usr/bin/python3 tooling/reference/ssm_hippo.py
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import REPO_ROOT, save_file, write_case  # noqa: E402

SCRIPT = "tooling/reference/ssm_hippo.py"
SEED = 5
OUT = os.path.join(REPO_ROOT, "packages", "ssm-hippo", "test", "golden")
g = torch.Generator().manual_seed(SEED)


def path(name):
    return os.path.join(OUT, name + ".safetensors")


# ---- HiPPO ---------------------------------------------------------------------------------------------------------

def legt_state_spaces(N):
    q = torch.arange(N, dtype=torch.float64)
    r = (2 * q + 1).sqrt()
    i, j = q[:, None], q[None, :]
    A = -r[:, None] * torch.where(i < j, (-1.0) ** (i - j), torch.ones(())) * r[None, :]
    B = r[:, None].clone()
    return A * 0.5, B * 0.5  # the reference's "halve again for timescale correctness"


def legt_lmu(N):
    q = torch.arange(N, dtype=torch.float64)
    i, j = q[:, None], q[None, :]
    A = torch.where(i < j, -torch.ones(()), (-1.0) ** (i - j + 1)) * (2 * q + 1)[:, None]
    B = ((-1.0) ** q * (2 * q + 1))[:, None]
    return A, B


def legs(N):
    q = torch.arange(N, dtype=torch.float64)
    r = (2 * q + 1).sqrt()
    A = -torch.tril(r[:, None] * r[None, :], -1) - torch.diag(q + 1)
    return A, r[:, None].clone()


def lagt_state_spaces(N):
    return torch.eye(N, dtype=torch.float64) / 2 - torch.tril(torch.ones(N, N, dtype=torch.float64)), torch.ones(N, 1, dtype=torch.float64)


def fout_paper(N):
    phi0 = torch.tensor([1.0] + [math.sqrt(2) if n % 2 == 1 else 0.0 for n in range(1, N)], dtype=torch.float64)
    R = torch.zeros(N, N, dtype=torch.float64)
    for n in range(1, N - 1, 2):
        w = 2 * math.pi * ((n + 1) // 2)
        R[n, n + 1] = w
        R[n + 1, n] = -w
    return R - 2 * torch.outer(phi0, phi0), 2 * phi0[:, None]


def hippo_cases():
    for name, config, fn in [
        ("hippo-fout", {"measure": "fout", "N": 7}, fout_paper),
        ("hippo-legt-state-spaces", {"measure": "legt", "N": 7, "theta": 2, "basis": "orthonormal"}, legt_state_spaces),
        ("hippo-legt-lmu", {"measure": "legt", "N": 6, "basis": "lmu"}, legt_lmu),
        ("hippo-legs", {"measure": "legs", "N": 8}, legs),
        ("hippo-lagt-state-spaces", {"measure": "lagt", "N": 5, "diagonalShift": 0.5}, lagt_state_spaces),
    ]:
        A, B = fn(config["N"])
        write_case(path(name), "hippo_transition", config, {}, lambda i, p, c, A=A, B=B: {"A": A, "B": B},
                   script=SCRIPT, seed=SEED, dtype="float64", grad=False)


def discretize_ref(A, B, dt, method):
    n = A.shape[0]
    I = torch.eye(n, dtype=A.dtype)
    if method == "forward-euler":
        return I + dt * A, dt * B
    if method == "backward-euler":
        M = I - dt * A
        return torch.linalg.solve(M, I), torch.linalg.solve(M, dt * B)
    if method == "bilinear":
        M = I - dt / 2 * A
        return torch.linalg.solve(M, I + dt / 2 * A), torch.linalg.solve(M, dt * B)
    Ad = torch.linalg.matrix_exp(dt * A)
    return Ad, torch.linalg.solve(A, (Ad - I) @ B)  # A is invertible here (HiPPO-LegS)


def discretize_cases():
    A, B = legs(6)
    for method, dt in [("forward-euler", 0.05), ("backward-euler", 0.05), ("bilinear", 0.1), ("zoh", 0.1), ("zoh", 3.0)]:
        write_case(path(f"discretize-legs-{method}-dt{dt}"), "discretize", {"dt": dt, "method": method}, {"A": A, "B": B},
                   lambda i, p, c: dict(zip(("A", "B"), discretize_ref(i["A"], i["B"], c["dt"], c["method"]))),
                   script=SCRIPT, seed=SEED, dtype="float64", grad=False)


# ---- Selective scan and Mamba --------------------------------------------------------------------------------------

def selective_scan_ref(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False):
    """Sequential selective scan (Mamba Algorithm 2), layouts of mamba_ssm's selective_scan_ref."""
    if delta_bias is not None:
        delta = delta + delta_bias[None, :, None]
    if delta_softplus:
        delta = F.softplus(delta)
    b, d, L = u.shape
    h = torch.zeros(b, d, A.shape[1], dtype=u.dtype)
    ys = []
    for t in range(L):
        dA = torch.exp(delta[:, :, t, None] * A[None])                     # (B, D, N)
        dBu = delta[:, :, t, None] * B[:, None, :, t] * u[:, :, t, None]   # (B, D, N)
        h = dA * h + dBu
        ys.append((h * C[:, None, :, t]).sum(-1))                          # (B, D)
    y = torch.stack(ys, -1)
    if D is not None:
        y = y + u * D[None, :, None]
    if z is not None:
        y = y * F.silu(z)
    return y


def selective_scan_cases():
    b, d, n, L = 2, 3, 4, 7
    inputs = {
        "u": torch.randn(b, d, L, generator=g),
        "delta": torch.randn(b, d, L, generator=g) * 0.5,
        "A": -torch.rand(d, n, generator=g) * 2 - 0.1,
        "B": torch.randn(b, n, L, generator=g),
        "C": torch.randn(b, n, L, generator=g),
        "D": torch.randn(d, generator=g),
        "z": torch.randn(b, d, L, generator=g),
        "delta_bias": torch.randn(d, generator=g) * 0.5,
    }
    write_case(path("selective_scan-softplus"), "selective_scan", {"delta_softplus": True}, inputs,
               lambda i, p, c: {"out": selective_scan_ref(i["u"], i["delta"], i["A"], i["B"], i["C"], i["D"], i["z"], i["delta_bias"], True)},
               script=SCRIPT, seed=SEED, generator=g)
    plain = {k: inputs[k] for k in ("u", "A", "B", "C")}
    plain["delta"] = torch.rand(b, d, L, generator=g) * 0.3 + 0.01
    write_case(path("selective_scan-plain"), "selective_scan", {}, plain,
               lambda i, p, c: {"out": selective_scan_ref(i["u"], i["delta"], i["A"], i["B"], i["C"])},
               script=SCRIPT, seed=SEED, generator=g)


def mamba_mixer_ref(h, p, cfg):
    """HF MambaMixer.slow_forward / mamba_simple's reference path, without the cache."""
    L = h.shape[1]
    R, N = cfg["time_step_rank"], cfg["state_size"]
    xz = (h @ p["in_proj.weight"].T).transpose(1, 2)                        # (B, 2E, L)
    x, z = xz.chunk(2, dim=1)
    E = x.shape[1]
    x = F.conv1d(x, p["conv1d.weight"], p["conv1d.bias"], padding=cfg["conv_kernel"] - 1, groups=E)[..., :L]
    x = F.silu(x)
    ssm = x.transpose(1, 2) @ p["x_proj.weight"].T                          # (B, L, R + 2N)
    dt, B, C = torch.split(ssm, [R, N, N], dim=-1)
    dt = dt @ p["dt_proj.weight"].T + p["dt_proj.bias"]                     # (B, L, E)
    y = selective_scan_ref(x, dt.transpose(1, 2), -torch.exp(p["A_log"]), B.transpose(1, 2), C.transpose(1, 2),
                           p["D"], z, None, True)
    return y.transpose(1, 2) @ p["out_proj.weight"].T


def mamba_cases():
    cfg = {"hidden_size": 8, "state_size": 4, "conv_kernel": 4, "expand": 2, "time_step_rank": 1}
    Dm, N, K, E, R = 8, 4, 4, 16, 1
    dt = torch.exp(torch.rand(E, generator=g) * (math.log(0.1) - math.log(0.001)) + math.log(0.001)).clamp(min=1e-4)
    params = {
        "in_proj.weight": (torch.rand(2 * E, Dm, generator=g) * 2 - 1) / math.sqrt(Dm),
        "conv1d.weight": (torch.rand(E, 1, K, generator=g) * 2 - 1) / math.sqrt(K),
        "conv1d.bias": (torch.rand(E, generator=g) * 2 - 1) / math.sqrt(K),
        "x_proj.weight": (torch.rand(R + 2 * N, E, generator=g) * 2 - 1) / math.sqrt(E),
        "dt_proj.weight": (torch.rand(E, R, generator=g) * 2 - 1) / math.sqrt(R),
        "dt_proj.bias": dt + torch.log(-torch.expm1(-dt)),
        "A_log": torch.log(torch.arange(1, N + 1, dtype=torch.float32)).repeat(E, 1) + 0.1 * torch.randn(E, N, generator=g),
        "D": torch.ones(E) + 0.1 * torch.randn(E, generator=g),
        "out_proj.weight": (torch.rand(Dm, E, generator=g) * 2 - 1) / math.sqrt(E),
    }
    write_case(path("mamba_mixer-basic"), "mamba_mixer", cfg, {"hidden_states": torch.randn(2, 6, Dm, generator=g)},
               lambda i, p, c: {"out": mamba_mixer_ref(i["hidden_states"], p, c)}, params,
               script=SCRIPT, seed=SEED, generator=g)


def rms_norm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def mamba_model_ref(ids, p, cfg):
    """HF MambaModel.forward without the cache: embeddings, pre-norm residual MambaBlocks, norm_f."""
    eps = cfg["layer_norm_epsilon"]
    h = p["embeddings.weight"][ids]
    for i in range(cfg["num_hidden_layers"]):
        pre = f"layers.{i}."
        mixer = {k[len(pre + "mixer."):]: v for k, v in p.items() if k.startswith(pre + "mixer.")}
        h = h + mamba_mixer_ref(rms_norm(h, p[pre + "norm.weight"], eps), mixer, cfg)
    return rms_norm(h, p["norm_f.weight"], eps)


def mixer_params(Dm, N, K, E, R, prefix=""):
    dt = torch.exp(torch.rand(E, generator=g) * (math.log(0.1) - math.log(0.001)) + math.log(0.001)).clamp(min=1e-4)
    return {
        prefix + "A_log": torch.log(torch.arange(1, N + 1, dtype=torch.float32)).repeat(E, 1) + 0.1 * torch.randn(E, N, generator=g),
        prefix + "D": torch.ones(E) + 0.1 * torch.randn(E, generator=g),
        prefix + "in_proj.weight": (torch.rand(2 * E, Dm, generator=g) * 2 - 1) / math.sqrt(Dm),
        prefix + "conv1d.weight": (torch.rand(E, 1, K, generator=g) * 2 - 1) / math.sqrt(K),
        prefix + "conv1d.bias": (torch.rand(E, generator=g) * 2 - 1) / math.sqrt(K),
        prefix + "x_proj.weight": (torch.rand(R + 2 * N, E, generator=g) * 2 - 1) / math.sqrt(E),
        prefix + "dt_proj.weight": (torch.rand(E, R, generator=g) * 2 - 1) / math.sqrt(R),
        prefix + "dt_proj.bias": dt + torch.log(-torch.expm1(-dt)),
        prefix + "out_proj.weight": (torch.rand(Dm, E, generator=g) * 2 - 1) / math.sqrt(E),
    }


def mamba_model_cases():
    cfg = {"vocab_size": 16, "hidden_size": 8, "num_hidden_layers": 2, "state_size": 4, "conv_kernel": 4, "expand": 2,
           "time_step_rank": 1, "layer_norm_epsilon": 1e-5}
    Dm, N, K, E, R = 8, 4, 4, 16, 1
    params = {"embeddings.weight": torch.randn(cfg["vocab_size"], Dm, generator=g)}
    for i in range(cfg["num_hidden_layers"]):
        params[f"layers.{i}.norm.weight"] = 1 + 0.1 * torch.randn(Dm, generator=g)
        params.update(mixer_params(Dm, N, K, E, R, f"layers.{i}.mixer."))
    params["norm_f.weight"] = 1 + 0.1 * torch.randn(Dm, generator=g)
    ids = torch.randint(0, cfg["vocab_size"], (2, 7), generator=g)
    write_case(path("mamba_model-hf"), "mamba_model", cfg, {"input_ids": ids},
               lambda i, p, c: {"out": mamba_model_ref(i["input_ids"], p, c)}, params,
               script=SCRIPT, seed=SEED, generator=g)
    # The same weights as a plain state_dict file, as HF's save_pretrained writes it (keys unchanged).
    save_file(params, path("mamba-model-hf-state-dict"), {"format": "pt"})


# ---- S4 ------------------------------------------------------------------------------------------------------------

def s4_kernel_ref(p, L):
    """K_l = Re(C Ad^l Bd) of the dense conjugate-completed DPLR system, C = C~ (I - Ad^L)^-1 (bilinear)."""
    H, M = p["log_A_real"].shape
    cplx = lambda t: torch.view_as_complex(t.contiguous())
    lam = -torch.exp(p["log_A_real"]) + 1j * p["A_imag"]                      # (H, M)
    full = lambda v: torch.cat([v, v.conj()], -1)                              # (H, 2M)
    lam, P, B, Ct = full(lam), full(cplx(p["P"])), full(cplx(p["B"])), full(cplx(p["C"]))
    dt = torch.exp(p["log_dt"])
    Ks = []
    for h in range(H):
        A = torch.diag(lam[h]) - torch.outer(P[h], P[h].conj())                # (N, N)
        I = torch.eye(2 * M, dtype=A.dtype)
        left = I - dt[h] / 2 * A
        dA = torch.linalg.solve(left, I + dt[h] / 2 * A)
        dB = torch.linalg.solve(left, (dt[h] * B[h])[:, None])[:, 0]
        C = torch.linalg.solve((I - torch.linalg.matrix_power(dA, L)).T, Ct[h])  # row: C (I - dA^L) = C~
        x, ks = dB, []
        for _ in range(L):
            ks.append((C * x).sum().real)
            x = dA @ x
        Ks.append(torch.stack(ks))
    return torch.stack(Ks)


def s4_cases():
    H, M, L = 2, 4, 16
    params = {
        "log_dt": torch.rand(H, generator=g) * (math.log(0.1) - math.log(0.01)) + math.log(0.01),
        "log_A_real": math.log(0.5) + 0.1 * torch.randn(H, M, generator=g),
        "A_imag": math.pi * torch.arange(M, dtype=torch.float64).repeat(H, 1) + 0.3 * torch.randn(H, M, generator=g, dtype=torch.float64),
        "P": torch.randn(H, M, 2, generator=g, dtype=torch.float64) * 0.5,
        "B": torch.randn(H, M, 2, generator=g, dtype=torch.float64),
        "C": torch.randn(H, M, 2, generator=g, dtype=torch.float64),
    }
    params = {k: v.double() for k, v in params.items()}
    write_case(path("s4_kernel-dplr"), "s4_kernel", {"L": L}, {}, lambda i, p, c: {"out": s4_kernel_ref(p, c["L"])}, params,
               script=SCRIPT, seed=SEED, dtype="float64", generator=g)


# ---- S4D -----------------------------------------------------------------------------------------------------------

def s4d_kernel_ref(p, L, method):
    dt = torch.exp(p["log_dt"])                                             # (H)
    C = torch.view_as_complex(p["C"].contiguous())                          # (H, M)
    A = -torch.exp(p["log_A_real"]) + 1j * p["A_imag"]                      # (H, M)
    dtA = A * dt[:, None]
    if method == "zoh":
        CB = C * (torch.exp(dtA) - 1.0) / A
        V = torch.exp(dtA[..., None] * torch.arange(L, dtype=torch.float64))  # (H, M, L)
    else:
        dA = (1 + dtA / 2) / (1 - dtA / 2)
        CB = C * dt[:, None] / (1 - dtA / 2)
        V = dA[..., None] ** torch.arange(L, dtype=torch.float64)
    return 2 * torch.einsum("hm,hml->hl", CB, V).real


def s4d_params(H, N, prefix=""):
    M = N // 2
    return {
        prefix + "log_dt": torch.rand(H, generator=g) * (math.log(0.1) - math.log(0.001)) + math.log(0.001) + 1.5,
        prefix + "C": torch.randn(H, M, 2, generator=g) * 0.7,
        prefix + "log_A_real": math.log(0.5) + 0.3 * torch.randn(H, M, generator=g),
        prefix + "A_imag": math.pi * torch.arange(M, dtype=torch.float32).repeat(H, 1) + 0.1 * torch.randn(H, M, generator=g),
    }


def s4d_cases():
    for method in ("zoh", "bilinear"):
        params = s4d_params(3, 8)
        write_case(path(f"s4d_kernel-{method}"), "s4d_kernel", {"L": 12, "method": method}, {},
                   lambda i, p, c: {"out": s4d_kernel_ref(p, c["L"], c["method"])}, params,
                   script=SCRIPT, seed=SEED, generator=g)
    H, N, L = 3, 8, 10
    params = {"D": torch.randn(H, generator=g)}
    params.update(s4d_params(H, N, "kernel."))
    params["output_linear.0.weight"] = torch.randn(2 * H, H, 1, generator=g) / math.sqrt(H)
    params["output_linear.0.bias"] = torch.randn(2 * H, generator=g) * 0.1

    def layer(i, p, c):
        u = i["u"]
        k = s4d_kernel_ref({k[len("kernel."):]: v for k, v in p.items() if k.startswith("kernel.")}, L, "zoh")
        y = torch.fft.irfft(torch.fft.rfft(u, n=2 * L) * torch.fft.rfft(k, n=2 * L), n=2 * L)[..., :L]
        y = F.gelu(y + u * p["D"][:, None])
        return {"out": F.glu(F.conv1d(y, p["output_linear.0.weight"], p["output_linear.0.bias"]), dim=-2)}

    write_case(path("s4d-layer"), "s4d", {"d_model": H, "d_state": N}, {"u": torch.randn(2, H, L, generator=g)}, layer, params,
               script=SCRIPT, seed=SEED, generator=g)


if __name__ == "__main__":
    hippo_cases()
    discretize_cases()
    selective_scan_cases()
    mamba_cases()
    s4d_cases()
    mamba_model_cases()
    s4_cases()
    print("ssm_hippo: wrote", len([f for f in os.listdir(OUT) if f.endswith(".safetensors")]), "cases to", OUT)
