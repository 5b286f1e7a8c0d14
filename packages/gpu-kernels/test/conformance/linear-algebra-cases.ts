import fc from 'fast-check';
import type { Conv1dParams, Conv2dParams, DType, MatmulParams } from '@formers/gpu-kernels';
import type { ConformanceCase } from './case-types.js';
import { createRng, intData, realData } from './rng.js';

interface Labeled<T> {
  readonly label: string;
  readonly tags: readonly string[];
  readonly value: T;
}

function matmulParams(
  batch: number,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  broadcast: 'none' | 'a' | 'b' = 'none',
): MatmulParams {
  return { batch, m, n, k, transA, transB, strideA: broadcast === 'a' ? 0 : m * k, strideB: broadcast === 'b' ? 0 : k * n };
}

export function matmulCases(seed: number, dtypes: readonly DType[]): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const rng = createRng(seed + 50);
  const dims = fc.sample(
    fc.record({
      batch: fc.integer({ min: 1, max: 3 }),
      m: fc.integer({ min: 1, max: 20 }),
      n: fc.integer({ min: 1, max: 20 }),
      k: fc.integer({ min: 1, max: 20 }),
    }),
    { seed: seed + 51, numRuns: 4 },
  );
  const all: Labeled<MatmulParams>[] = [];
  dims.forEach(({ batch, m, n, k }, i) => {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const t = `${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}`;
        all.push({ label: `random-${i}-${t}`, tags: ['random', t], value: matmulParams(batch, m, n, k, transA, transB) });
      }
    }
  });
  all.push(
    { label: 'broadcast-a', tags: ['broadcast'], value: matmulParams(3, 5, 4, 6, false, true, 'a') },
    { label: 'broadcast-b', tags: ['broadcast'], value: matmulParams(3, 5, 4, 6, true, false, 'b') },
    { label: 'size-1', tags: ['edge'], value: matmulParams(1, 1, 1, 1, false, false) },
    { label: 'vector', tags: ['edge'], value: matmulParams(2, 1, 9, 17, false, true) },
    { label: 'k-0', tags: ['edge', 'empty'], value: matmulParams(2, 3, 4, 0, false, false) },
    { label: 'm-0', tags: ['edge', 'empty'], value: matmulParams(2, 0, 4, 3, false, false) },
    { label: 'batch-0', tags: ['edge', 'empty'], value: matmulParams(0, 3, 4, 5, false, false) },
    { label: 'large', tags: ['large'], value: matmulParams(1, 256, 256, 256, false, false) },
    { label: 'large-TT', tags: ['large', 'TT'], value: matmulParams(1, 256, 256, 256, true, true) },
  );
  for (const dtype of dtypes.filter((d) => d !== 'int32')) {
    for (const { label, tags, value: p } of all) {
      const sizeA = p.strideA === 0 ? p.m * p.k : p.batch * p.m * p.k;
      const sizeB = p.strideB === 0 ? p.k * p.n : p.batch * p.k * p.n;
      const variants: [string, boolean][] = tags.includes('large') ? [['int-valued', false], ['real', true]] : [['real', true]];
      for (const [variant, real] of variants) {
        // Small integers make the large product exact in float32 (|sum| <= 256 * 64 < 2^24), so any indexing slip shows.
        const a = real ? realData(rng, dtype, sizeA) : intData(rng, dtype, sizeA, -8, 8);
        const b = real ? realData(rng, dtype, sizeB) : intData(rng, dtype, sizeB, -8, 8);
        cases.push({
          id: `matmul/${dtype}/${label}/${variant}`,
          kernel: 'matmul',
          dtype,
          tags: [...tags, variant],
          inputs: [{ data: a, dtype }, { data: b, dtype }],
          outputs: [{ dtype, size: p.batch * p.m * p.n }],
          scale: real ? 'abs' : 'none',
          invoke: async (be, [ha, hb]) => [await be.matmul(ha, hb, dtype, p)],
        });
      }
    }
  }
  return cases;
}

function outExtent(size: number, k: number, stride: number, pad: number, dilation: number): number {
  return Math.floor((size + 2 * pad - dilation * (k - 1) - 1) / stride) + 1;
}

function conv2dParams(o: {
  n: number;
  groups: number;
  cInG: number;
  cOutG: number;
  h: number;
  w: number;
  kH: number;
  kW: number;
  stride: [number, number];
  pad: [number, number];
  dilation: [number, number];
}): Conv2dParams {
  const cIn = o.groups * o.cInG;
  const cOut = o.groups * o.cOutG;
  // Grow the input until the kernel fits at least once.
  let { h, w } = o;
  while (outExtent(h, o.kH, o.stride[0], o.pad[0], o.dilation[0]) < 1) h++;
  while (outExtent(w, o.kW, o.stride[1], o.pad[1], o.dilation[1]) < 1) w++;
  return {
    n: o.n,
    cIn,
    h,
    w,
    cOut,
    kH: o.kH,
    kW: o.kW,
    strideH: o.stride[0],
    strideW: o.stride[1],
    padH: o.pad[0],
    padW: o.pad[1],
    dilationH: o.dilation[0],
    dilationW: o.dilation[1],
    groups: o.groups,
    hOut: outExtent(h, o.kH, o.stride[0], o.pad[0], o.dilation[0]),
    wOut: outExtent(w, o.kW, o.stride[1], o.pad[1], o.dilation[1]),
  };
}

export function conv2dParamCases(seed: number): Labeled<Conv2dParams>[] {
  const small = fc.integer({ min: 1, max: 2 });
  const random = fc.sample(
    fc.record({
      n: small,
      groups: fc.integer({ min: 1, max: 3 }),
      cInG: fc.integer({ min: 1, max: 3 }),
      cOutG: fc.integer({ min: 1, max: 3 }),
      h: fc.integer({ min: 1, max: 9 }),
      w: fc.integer({ min: 1, max: 9 }),
      kH: fc.integer({ min: 1, max: 3 }),
      kW: fc.integer({ min: 1, max: 3 }),
      stride: fc.tuple(small, small),
      pad: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
      dilation: fc.tuple(small, small),
    }),
    { seed, numRuns: 5 },
  );
  const one: [number, number] = [1, 1];
  return [
    ...random.map((o, i) => ({ label: `random-${i}`, tags: ['random'], value: conv2dParams(o) })),
    {
      label: 'depthwise',
      tags: ['groups'],
      value: conv2dParams({ n: 2, groups: 4, cInG: 1, cOutG: 2, h: 7, w: 6, kH: 3, kW: 3, stride: one, pad: one, dilation: one }),
    },
    {
      label: 'strided-dilated',
      tags: ['random'],
      value: conv2dParams({ n: 1, groups: 1, cInG: 3, cOutG: 2, h: 11, w: 10, kH: 3, kW: 2, stride: [2, 3], pad: [2, 1], dilation: [2, 2] }),
    },
    {
      label: '1x1',
      tags: ['edge'],
      value: conv2dParams({ n: 1, groups: 1, cInG: 1, cOutG: 1, h: 1, w: 1, kH: 1, kW: 1, stride: one, pad: [0, 0], dilation: one }),
    },
    {
      label: 'empty-batch',
      tags: ['edge', 'empty'],
      value: conv2dParams({ n: 0, groups: 1, cInG: 2, cOutG: 2, h: 4, w: 4, kH: 3, kW: 3, stride: one, pad: one, dilation: one }),
    },
    {
      label: 'large',
      tags: ['large'],
      value: conv2dParams({ n: 2, groups: 1, cInG: 8, cOutG: 16, h: 32, w: 32, kH: 3, kW: 3, stride: one, pad: one, dilation: one }),
    },
  ];
}

export function convCases(seed: number, dtypes: readonly DType[]): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const rng = createRng(seed + 60);
  for (const dtype of dtypes.filter((d) => d !== 'int32')) {
    for (const { label, tags, value: p } of conv2dParamCases(seed + 61)) {
      const xSize = p.n * p.cIn * p.h * p.w;
      const wSize = p.cOut * (p.cIn / p.groups) * p.kH * p.kW;
      const ySize = p.n * p.cOut * p.hOut * p.wOut;
      const x = realData(rng, dtype, xSize);
      const w = realData(rng, dtype, wSize);
      const dy = realData(rng, dtype, ySize);
      const base = { dtype, tags, scale: 'abs' as const };
      cases.push({
        ...base,
        id: `conv2d/${dtype}/${label}`,
        kernel: 'conv2d',
        inputs: [{ data: x, dtype }, { data: w, dtype }],
        outputs: [{ dtype, size: ySize }],
        invoke: async (b, [hx, hw]) => [await b.conv2d(hx, hw, dtype, p)],
      });
      cases.push({
        ...base,
        id: `conv2dGradInput/${dtype}/${label}`,
        kernel: 'conv2dGradInput',
        inputs: [{ data: dy, dtype }, { data: w, dtype }],
        outputs: [{ dtype, size: xSize }],
        invoke: async (b, [hdy, hw]) => [await b.conv2dGradInput(hdy, hw, dtype, p)],
      });
      cases.push({
        ...base,
        id: `conv2dGradWeight/${dtype}/${label}`,
        kernel: 'conv2dGradWeight',
        inputs: [{ data: x, dtype }, { data: dy, dtype }],
        outputs: [{ dtype, size: wSize }],
        invoke: async (b, [hx, hdy]) => [await b.conv2dGradWeight(hx, hdy, dtype, p)],
      });
    }
    const conv1d = fc.sample(
      fc.record({
        n: fc.integer({ min: 1, max: 2 }),
        groups: fc.integer({ min: 1, max: 3 }),
        cInG: fc.integer({ min: 1, max: 3 }),
        cOutG: fc.integer({ min: 1, max: 2 }),
        l: fc.integer({ min: 1, max: 20 }),
        k: fc.integer({ min: 1, max: 4 }),
        stride: fc.integer({ min: 1, max: 3 }),
        pad: fc.integer({ min: 0, max: 3 }),
        dilation: fc.integer({ min: 1, max: 3 }),
      }),
      { seed: seed + 62, numRuns: 5 },
    );
    const conv1dAll: Labeled<Conv1dParams>[] = [
      ...conv1d.map((o, i) => ({ label: `random-${i}`, tags: ['random'], value: conv1dParams(o) })),
      // Depthwise causal conv as in Mamba: left padding k - 1, taking the first L outputs is the caller's job.
      { label: 'depthwise', tags: ['groups'], value: conv1dParams({ n: 2, groups: 6, cInG: 1, cOutG: 1, l: 16, k: 4, stride: 1, pad: 3, dilation: 1 }) },
      { label: 'empty-batch', tags: ['edge', 'empty'], value: conv1dParams({ n: 0, groups: 1, cInG: 2, cOutG: 1, l: 5, k: 2, stride: 1, pad: 0, dilation: 1 }) },
    ];
    for (const { label, tags, value: p } of conv1dAll) {
      const x = realData(rng, dtype, p.n * p.cIn * p.l);
      const w = realData(rng, dtype, p.cOut * (p.cIn / p.groups) * p.k);
      cases.push({
        id: `conv1d/${dtype}/${label}`,
        kernel: 'conv1d',
        dtype,
        tags,
        inputs: [{ data: x, dtype }, { data: w, dtype }],
        outputs: [{ dtype, size: p.n * p.cOut * p.lOut }],
        scale: 'abs',
        invoke: async (b, [hx, hw]) => [await b.conv1d(hx, hw, dtype, p)],
      });
    }
  }
  return cases;
}

function conv1dParams(o: {
  n: number;
  groups: number;
  cInG: number;
  cOutG: number;
  l: number;
  k: number;
  stride: number;
  pad: number;
  dilation: number;
}): Conv1dParams {
  let l = o.l;
  while (outExtent(l, o.k, o.stride, o.pad, o.dilation) < 1) l++;
  return {
    n: o.n,
    cIn: o.groups * o.cInG,
    l,
    cOut: o.groups * o.cOutG,
    k: o.k,
    stride: o.stride,
    pad: o.pad,
    dilation: o.dilation,
    groups: o.groups,
    lOut: outExtent(l, o.k, o.stride, o.pad, o.dilation),
  };
}
