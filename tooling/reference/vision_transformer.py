"""Golden cases for @formers/vision-transformer, from PyTorch.

timm is not installed here, so this script is OUR re-implementation of the structure of timm's
`timm/models/vision_transformer.py` (VisionTransformer, Block, Attention, Mlp, LayerScale, PatchEmbed and
`resample_abs_pos_embed`) in plain torch, with timm's module names, so its `state_dict()` has exactly timm's keys.
The math follows timm: qkv (B, N, 3, H, Dh) permuted to (3, B, H, N, Dh), scale Dh^-0.5 applied to q, softmax
over keys, LayerNorm eps 1e-6, exact GELU, class token concatenated before the learned table is added, global pool
'token' (x[:, 0]) or 'avg' (mean of the patch tokens, then fc_norm instead of norm). The CPVT variant adds the PEG
as CPVT / timm Twins' PosConv (`pos_block.I.proj.0`, a depthwise 3x3 conv with bias, residual) after block 0.
Resampling a learned table to a new grid is timm's resample_abs_pos_embed: bicubic, align_corners False,
antialias True, prefix tokens kept.

Cases (each a conformance case `vit_forward` for `pnpm conformance`, plus the bare state_dict for strict loading):
- vit_tiny_cls:       token pooling, learned table, 16 x 16 input (4 x 4 grid), LayerScale off.
- vit_tiny_resample:  the same weights run at 24 x 24 (6 x 6 grid, table upsampled) and 12 x 12 (3 x 3, downsampled
                      with antialias): input and logits only (weights from vit-tiny-state-dict), not conformance cases.
- cpvt_tiny_gap:      no class token, PEG after block 0, average pooling + fc_norm, LayerScale on, at 16 px, and at the
                      unseen 24 and 32 px (input and logits only).
Every case has a batch of 2 random images and random weights (not timm's init, so that every parameter matters).

Run: /usr/bin/python3 tooling/reference/vision_transformer.py
"""
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import stateless

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import REPO_ROOT, write_case, write_safetensors, provenance  # noqa: E402

SCRIPT = "tooling/reference/vision_transformer.py"
SEED = 11
OUT = os.path.join(REPO_ROOT, "packages", "vision-transformer", "test", "golden")


def path(name):
    return os.path.join(OUT, name + ".safetensors")


# ---- timm's structure, re-implemented ------------------------------------------------------------------------------

class PatchEmbed(nn.Module):
    def __init__(self, patch, in_chans, dim):
        super().__init__()
        self.patch = patch
        self.proj = nn.Conv2d(in_chans, dim, patch, stride=patch, bias=True)

    def forward(self, x):
        x = self.proj(x)  # (B, D, gh, gw)
        grid = x.shape[-2:]
        return x.flatten(2).transpose(1, 2), grid  # (B, N, D)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        attn = attn.softmax(dim=-1)
        x = attn @ v
        return self.proj(x.transpose(1, 2).reshape(B, N, C))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class LayerScale(nn.Module):
    def __init__(self, dim, init_values):
        super().__init__()
        self.gamma = nn.Parameter(init_values * torch.ones(dim))

    def forward(self, x):
        return x * self.gamma


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, init_values):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.ls1 = LayerScale(dim, init_values) if init_values else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.ls2 = LayerScale(dim, init_values) if init_values else nn.Identity()

    def forward(self, x):
        x = x + self.ls1(self.attn(self.norm1(x)))
        return x + self.ls2(self.mlp(self.norm2(x)))


class PosConv(nn.Module):
    """CPVT's PEG as timm Twins' PosConv (stride 1): depthwise conv + residual on the patch tokens."""

    def __init__(self, dim, k=3):
        super().__init__()
        self.proj = nn.Sequential(nn.Conv2d(dim, dim, k, 1, k // 2, bias=True, groups=dim))

    def forward(self, x, grid, prefix):
        B, N, C = x.shape
        cls, feat = x[:, :prefix], x[:, prefix:]
        cnn = feat.transpose(1, 2).reshape(B, C, grid[0], grid[1])
        y = (self.proj(cnn) + cnn).flatten(2).transpose(1, 2)
        return torch.cat([cls, y], dim=1)


def resample_abs_pos_embed(posemb, new_size, old_size, num_prefix_tokens):
    if tuple(new_size) == tuple(old_size):
        return posemb
    prefix, grid = posemb[:, :num_prefix_tokens], posemb[:, num_prefix_tokens:]
    D = posemb.shape[-1]
    grid = grid.reshape(1, old_size[0], old_size[1], D).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=tuple(new_size), mode="bicubic", antialias=True, align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(1, -1, D)
    return torch.cat([prefix, grid], dim=1)


class VisionTransformer(nn.Module):
    def __init__(self, c):
        super().__init__()
        D = c["embed_dim"]
        self.c = c
        self.grid = (c["img_size"] // c["patch_size"],) * 2
        self.prefix = 1 if c["class_token"] else 0
        self.use_fc_norm = c["global_pool"] == "avg"
        self.patch_embed = PatchEmbed(c["patch_size"], c["in_chans"], D)
        if c["class_token"]:
            self.cls_token = nn.Parameter(torch.zeros(1, 1, D))
        else:
            self.cls_token = None
        if c["pos_encoding"] == "learned":
            self.pos_embed = nn.Parameter(torch.zeros(1, self.prefix + self.grid[0] * self.grid[1], D))
        else:
            self.pos_embed = None
        self.blocks = nn.Sequential(*[Block(D, c["num_heads"], c["mlp_ratio"], c["init_values"]) for _ in range(c["depth"])])
        if c["pos_encoding"] == "peg":
            self.pos_block = nn.ModuleList([PosConv(D) for _ in c["peg_positions"]])
        self.norm = nn.Identity() if self.use_fc_norm else nn.LayerNorm(D, eps=1e-6)
        self.fc_norm = nn.LayerNorm(D, eps=1e-6) if self.use_fc_norm else nn.Identity()
        self.head = nn.Linear(D, c["num_classes"])

    def forward(self, x):
        x, grid = self.patch_embed(x)
        B = x.shape[0]
        if self.cls_token is not None:
            x = torch.cat([self.cls_token.expand(B, -1, -1), x], dim=1)
        if self.pos_embed is not None:
            x = x + resample_abs_pos_embed(self.pos_embed, grid, self.grid, self.prefix)
        for i, blk in enumerate(self.blocks):
            x = blk(x)
            if self.c["pos_encoding"] == "peg" and i in self.c["peg_positions"]:
                x = self.pos_block[self.c["peg_positions"].index(i)](x, grid, self.prefix)
        x = self.norm(x)
        x = x[:, self.prefix:].mean(dim=1) if self.c["global_pool"] == "avg" else x[:, 0]
        return self.head(self.fc_norm(x))


# ---- cases ---------------------------------------------------------------------------------------------------------

def randomize(model, g):
    """Random values for every parameter (not timm's init): LayerNorm affine and LayerScale away from 1/0, so a
    wrong key or a swapped parameter changes the logits."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name.endswith("norm.weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith("gamma"):
                p.copy_(0.5 + 0.3 * torch.rand(p.shape, generator=g))
            else:
                fan = p.shape[-1] if p.ndim > 1 else 4
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(fan))


def model_fn(model):
    def fn(inputs, params, config):
        return {"logits": stateless.functional_call(model.double(), params, (inputs["x"],))}

    return fn


def write_model(name, config, sizes, g):
    model = VisionTransformer(config)
    randomize(model, g)
    model = model.float()
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    meta = {"config": json.dumps(config, sort_keys=True), "provenance": provenance(SCRIPT, SEED),
            "note": "state_dict with timm VisionTransformer key names (our re-implementation of timm's structure)"}
    write_safetensors(path(name + "-state-dict"), sd, meta)
    x = torch.randn(2, config["in_chans"], config["img_size"], config["img_size"], generator=g)
    write_case(path(f"{name}-{config['img_size']}px"), "vit_forward", dict(config, eval_size=config["img_size"]), {"x": x},
               model_fn(model), sd, script=SCRIPT, seed=SEED, generator=g)
    for s in sizes:
        # Other resolutions: input and logits only, run with the weights of <name>-state-dict (keeps the folder small).
        x = torch.randn(2, config["in_chans"], s, s, generator=g)
        with torch.no_grad():
            logits = model.double()(x.double()).float()
        model.float()
        write_safetensors(path(f"{name}-{s}px"), {"x": x, "logits": logits},
                          {"config": json.dumps(dict(config, eval_size=s), sort_keys=True), "provenance": provenance(SCRIPT, SEED),
                           "weights": f"{name}-state-dict.safetensors", "reference_precision": "float64"})


def main():
    g = torch.Generator().manual_seed(SEED)
    base = dict(img_size=16, patch_size=4, in_chans=3, embed_dim=16, depth=2, num_heads=2, mlp_ratio=2.0, num_classes=5,
                init_values=None, class_token=True, global_pool="token", pos_encoding="learned", peg_positions=[])
    write_model("vit-tiny", base, [24, 12], g)
    cpvt = dict(base, class_token=False, global_pool="avg", pos_encoding="peg", peg_positions=[0], init_values=0.5)
    write_model("cpvt-tiny-gap", cpvt, [24, 32], g)
    print("wrote", sorted(os.listdir(OUT)))


if __name__ == "__main__":
    main()
