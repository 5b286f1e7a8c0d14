"""Golden cases for @formers/tensor-core's nn layers: Linear, LayerNorm, Conv1d, Conv2d (strides, groups,
dilation, 'same' and reflect padding), Embedding with padding_idx, and a timm-style Mlp (fc1 -> act -> drop ->
norm -> fc2 -> drop, with timm's submodule names) -- forward and backward.

Writes packages/tensor-core/test/golden/nn.safetensors. Per case: `<case>.input.x`, the module's state_dict as
`<case>.param.<key>` (PyTorch keys, so the test loads them with loadStateDict and thereby checks the names),
`<case>.output`, `<case>.cotangent` and the gradients `<case>.grad.x`, `<case>.grad.<key>` of
sum(output * cotangent). Parameters are random (not the default init) so that every term matters. The reference
runs in float64 on the stored float32 values. `__metadata__["cases"]` gives each layer's constructor arguments in
@formers/tensor-core's names.

Run with /usr/bin/python3 (torch 1.13).
"""
import json
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import REPO_ROOT, provenance, write_safetensors  # noqa: E402

OUT = os.path.join(REPO_ROOT, "packages", "tensor-core", "test", "golden", "nn.safetensors")
SEED = 4242


class Mlp(nn.Module):
    """timm.layers.Mlp's structure and names (timm is not installed here)."""

    def __init__(self, in_features, hidden_features, out_features, act_layer, norm_layer=None):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = act_layer()
        self.drop1 = nn.Dropout(0.0)
        self.norm = norm_layer(hidden_features) if norm_layer is not None else nn.Identity()
        self.fc2 = nn.Linear(hidden_features, out_features)
        self.drop2 = nn.Dropout(0.0)

    def forward(self, x):
        return self.drop2(self.fc2(self.norm(self.drop1(self.act(self.fc1(x))))))


def add_case(tensors, meta, g, name, layer, args, module, x):
    module = module.double()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64).to(torch.float32).to(torch.float64) * 0.7)
        if isinstance(module, nn.Embedding) and module.padding_idx is not None:
            module.weight[module.padding_idx].zero_()
    if x.is_floating_point():
        x = x.to(torch.float32).to(torch.float64).requires_grad_(True)
    out = module(x)
    cot = torch.randn(out.shape, generator=g, dtype=torch.float64).to(torch.float32).to(torch.float64)
    params = dict(module.named_parameters())
    leaves = ([x] if x.is_floating_point() else []) + list(params.values())
    grads = torch.autograd.grad((out * cot).sum(), leaves)
    tensors[f"{name}.input.x"] = x.detach().to(torch.float32) if x.is_floating_point() else x.to(torch.int32)
    for k, v in module.state_dict().items():
        tensors[f"{name}.param.{k}"] = v.to(torch.float32)
    tensors[f"{name}.output"] = out.detach().to(torch.float32)
    tensors[f"{name}.cotangent"] = cot.to(torch.float32)
    names = (["x"] if x.is_floating_point() else []) + list(params)
    for k, gr in zip(names, grads):
        tensors[f"{name}.grad.{k}"] = gr.to(torch.float32)
    meta.append({"name": name, "layer": layer, "args": args, "keys": list(module.state_dict())})


def main():
    g = torch.Generator().manual_seed(SEED)
    rn = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    tensors, meta = {}, []
    add_case(tensors, meta, g, "linear", "Linear", [5, 3, {}], nn.Linear(5, 3), rn(2, 4, 5))
    add_case(tensors, meta, g, "linear_nobias", "Linear", [4, 6, {"bias": False}], nn.Linear(4, 6, bias=False), rn(3, 4))
    add_case(tensors, meta, g, "layernorm", "LayerNorm", [6, {}], nn.LayerNorm(6), rn(3, 6) * 3 + 1)
    add_case(tensors, meta, g, "layernorm_2d", "LayerNorm", [[2, 3], {"eps": 1e-3}], nn.LayerNorm([2, 3], eps=1e-3), rn(4, 2, 3))
    add_case(tensors, meta, g, "conv2d", "Conv2d", [3, 4, 3, {"stride": 2, "padding": 1}],
             nn.Conv2d(3, 4, 3, stride=2, padding=1), rn(2, 3, 7, 6))
    add_case(tensors, meta, g, "conv2d_groups_same", "Conv2d", [4, 6, [3, 2], {"groups": 2, "dilation": [1, 2], "padding": "same"}],
             nn.Conv2d(4, 6, (3, 2), groups=2, dilation=(1, 2), padding="same"), rn(2, 4, 5, 5))
    add_case(tensors, meta, g, "conv2d_reflect", "Conv2d", [2, 3, 3, {"padding": 1, "paddingMode": "reflect", "bias": False}],
             nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect", bias=False), rn(1, 2, 4, 5))
    add_case(tensors, meta, g, "conv1d", "Conv1d", [3, 5, 3, {"padding": 2, "dilation": 2}],
             nn.Conv1d(3, 5, 3, padding=2, dilation=2), rn(2, 3, 8))
    add_case(tensors, meta, g, "embedding_pad", "Embedding", [7, 4, {"paddingIdx": 2}],
             nn.Embedding(7, 4, padding_idx=2), torch.tensor([[0, 2, 6], [2, 2, 3]]))
    add_case(tensors, meta, g, "mlp", "MLP", [{"inFeatures": 6, "hiddenFeatures": 12, "outFeatures": 4}],
             Mlp(6, 12, 4, nn.GELU), rn(2, 3, 6))
    add_case(tensors, meta, g, "mlp_tanh_norm", "MLP", [{"inFeatures": 5, "hiddenFeatures": 8, "act": "gelu_tanh", "norm": "layernorm"}],
             Mlp(5, 8, 5, lambda: nn.GELU(approximate="tanh"), nn.LayerNorm), rn(4, 5))
    write_safetensors(OUT, tensors, {
        "cases": json.dumps(meta, sort_keys=True),
        "provenance": provenance(__file__, SEED),
        "reference_precision": "float64",
        "dtype": "float32",
    })
    print(f"wrote {os.path.relpath(OUT, REPO_ROOT)}: {len(meta)} cases")


if __name__ == "__main__":
    main()
