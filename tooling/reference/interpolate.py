"""Golden cases for tensor-core's interpolate, from torch.nn.functional.interpolate.

Writes packages/tensor-core/test/golden/interpolate.safetensors: for every case, the output and the gradient of
sum(output * weight) with respect to the input, next to the shared inputs and weights. The safetensors file is
written by hand (8-byte little-endian header length, JSON header, raw little-endian bytes), so the `safetensors`
package is not needed. Deterministic: inputs come from a seeded torch.Generator and float64 math, stored as float32.

Run: /usr/bin/python3 tooling/reference/interpolate.py
"""
import json
import os
import struct

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'packages', 'tensor-core', 'test', 'golden', 'interpolate.safetensors')

gen = torch.Generator().manual_seed(20241124)
inputs = {
    'x1d': torch.randn(2, 3, 7, generator=gen, dtype=torch.float64),
    'x2d': torch.randn(1, 2, 6, 9, generator=gen, dtype=torch.float64),
}

# (name, input, options). Sizes cover up- and down-sampling, non-integer ratios, and scale factors whose
# floor(in * scale) output differs from in/out-derived coordinates.
CASES = []
for mode in ['nearest', 'nearest-exact', 'linear']:
    for size in [12, 4, 7]:
        CASES.append(dict(input='x1d', mode=mode, size=[size]))
    CASES.append(dict(input='x1d', mode=mode, scale_factor=[1.7]))
    CASES.append(dict(input='x1d', mode=mode, scale_factor=[0.6]))
for ac in [False, True]:
    for size in [[12, 4], [11, 17], [3, 5]]:
        CASES.append(dict(input='x1d', mode='linear', size=size[:1], align_corners=ac))
for mode in ['nearest', 'nearest-exact', 'bilinear', 'bicubic']:
    aligns = [None] if mode.startswith('nearest') else [False, True]
    aas = [False] if mode.startswith('nearest') else [False, True]
    for ac in aligns:
        for aa in aas:
            for size in [[11, 17], [3, 4], [6, 9], [4, 13]]:
                CASES.append(dict(input='x2d', mode=mode, size=size, align_corners=ac, antialias=aa))
            for sf in [[1.5, 2.25], [0.5, 0.4]]:
                CASES.append(dict(input='x2d', mode=mode, scale_factor=sf, align_corners=ac, antialias=aa))

tensors = {}
for name, x in inputs.items():
    tensors[name] = x
meta_cases = []
for i, case in enumerate(CASES):
    name = f'case{i:03d}'
    x = inputs[case['input']].clone().requires_grad_(True)
    kwargs = dict(mode=case['mode'])
    if 'size' in case:
        kwargs['size'] = case['size']
    else:
        kwargs['scale_factor'] = case['scale_factor']
    if case.get('align_corners') is not None:
        kwargs['align_corners'] = case['align_corners']
    if case.get('antialias'):
        kwargs['antialias'] = True
    y = F.interpolate(x, **kwargs)
    w = torch.randn(y.shape, generator=gen, dtype=torch.float64)
    (y * w).sum().backward()
    tensors[f'{name}.weight'] = w
    tensors[f'{name}.output'] = y.detach()
    tensors[f'{name}.grad_input'] = x.grad.detach()
    meta_cases.append(dict(name=name, **{k: v for k, v in case.items()}))


def write_safetensors(path, named, metadata):
    header = {'__metadata__': metadata}
    blobs = []
    offset = 0
    for key in sorted(named):
        t = named[key].detach().to(torch.float32).contiguous()
        raw = t.numpy().astype('<f4').tobytes()
        header[key] = dict(dtype='F32', shape=list(t.shape), data_offsets=[offset, offset + len(raw)])
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * ((8 - len(text) % 8) % 8)  # align the data to 8 bytes, as the reference writer does
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


write_safetensors(OUT, tensors, {
    'generator': 'tooling/reference/interpolate.py',
    'torch': torch.__version__,
    'cases': json.dumps(meta_cases),
})
print(f'wrote {len(CASES)} cases to {OUT}')
