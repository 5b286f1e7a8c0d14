import type { Conv2dParams } from '../../types.js';
import type { Maybe } from '../async.js';
import type { KernelRunner } from '../runner.js';
import { decompose, f, idiv, int, kernelSource } from '../source.js';

/**
 * Direct convolutions with torch.nn.functional.conv2d semantics (cross-correlation, zero padding, stride,
 * dilation, groups; depthwise is groups = C_in), one thread per output element, in gather form so no two threads
 * write the same place. Shapes: x (N, C_in, H, W), weight (C_out, C_in / groups, kH, kW), y (N, C_out, H_out, W_out).
 */
export function conv2dKernel(run: KernelRunner, x: Float32Array, weight: Float32Array, p: Conv2dParams): Maybe<Float32Array> {
  const { n, cIn, h, w, cOut, kH, kW, strideH, strideW, padH, padW, dilationH, dilationW, groups, hOut, wOut } = p;
  const cInG = cIn / groups;
  const cOutG = cOut / groups;
  const size = n * cOut * hOut * wOut;
  if (size === 0) return new Float32Array(0);
  const body = [
    decompose('i', [n, cOut, hOut, wOut], 'p'),
    // p0 batch, p1 output channel, p2 / p3 output row / column; g is the output channel's group.
    `const g = ${idiv('p1', cOutG)};`,
    'let acc = 0.0;',
    `for (let cg = 0; cg < ${int(cInG)}; cg++) {`,
    `  const xPlane = (p0 * ${f(cIn)} + g * ${f(cInG)} + cg) * ${f(h * w)};`,
    `  const wBase = (p1 * ${f(cInG)} + cg) * ${f(kH * kW)};`,
    `  for (let ki = 0; ki < ${int(kH)}; ki++) {`,
    `    const ih = p2 * ${f(strideH)} - ${f(padH)} + ki * ${f(dilationH)};`,
    `    if (ih >= 0.0 && ih < ${f(h)}) {`,
    `      for (let kj = 0; kj < ${int(kW)}; kj++) {`,
    `        const iw = p3 * ${f(strideW)} - ${f(padW)} + kj * ${f(dilationW)};`,
    `        if (iw >= 0.0 && iw < ${f(w)}) {`,
    `          acc += wt[wBase + ki * ${f(kW)} + kj] * x[xPlane + ih * ${f(w)} + iw];`,
    '        }',
    '      }',
    '    }',
    '  }',
    '}',
    'return acc;',
  ].join('\n');
  return run.run({ kernel: 'conv2d', source: kernelSource(['x', 'wt'], body), size, args: [x, weight] });
}

/**
 * dL/dx of conv2d: each input pixel gathers dy[b, co, oh, ow] * weight[co, cg, ki, kj] over the output positions
 * that read it, i.e. where ih + padH - ki * dilationH is a non-negative multiple of strideH below H_out * strideH.
 */
export function conv2dGradInputKernel(run: KernelRunner, dy: Float32Array, weight: Float32Array, p: Conv2dParams): Maybe<Float32Array> {
  const { n, cIn, h, w, cOut, kH, kW, strideH, strideW, padH, padW, dilationH, dilationW, groups, hOut, wOut } = p;
  const cInG = cIn / groups;
  const cOutG = cOut / groups;
  const size = n * cIn * h * w;
  if (size === 0) return new Float32Array(0);
  const body = [
    decompose('i', [n, cIn, h, w], 'p'),
    // p0 batch, p1 input channel (group g, index cg inside it), p2 / p3 input row / column.
    `const g = ${idiv('p1', cInG)};`,
    `const cg = p1 - g * ${f(cInG)};`,
    'let acc = 0.0;',
    `for (let cog = 0; cog < ${int(cOutG)}; cog++) {`,
    `  const co = g * ${f(cOutG)} + cog;`,
    `  const dyPlane = (p0 * ${f(cOut)} + co) * ${f(hOut * wOut)};`,
    `  const wBase = (co * ${f(cInG)} + cg) * ${f(kH * kW)};`,
    `  for (let ki = 0; ki < ${int(kH)}; ki++) {`,
    `    const th = p2 + ${f(padH)} - ki * ${f(dilationH)};`,
    `    const oh = ${idiv('th', strideH)};`,
    `    if (th >= 0.0 && oh * ${f(strideH)} == th && oh < ${f(hOut)}) {`,
    `      for (let kj = 0; kj < ${int(kW)}; kj++) {`,
    `        const tw = p3 + ${f(padW)} - kj * ${f(dilationW)};`,
    `        const ow = ${idiv('tw', strideW)};`,
    `        if (tw >= 0.0 && ow * ${f(strideW)} == tw && ow < ${f(wOut)}) {`,
    `          acc += wt[wBase + ki * ${f(kW)} + kj] * dy[dyPlane + oh * ${f(wOut)} + ow];`,
    '        }',
    '      }',
    '    }',
    '  }',
    '}',
    'return acc;',
  ].join('\n');
  return run.run({ kernel: 'conv2dGradInput', source: kernelSource(['dy', 'wt'], body), size, args: [dy, weight] });
}

/** dL/dweight of conv2d: each weight element sums dy times the input pixel it met, over the batch and positions. */
export function conv2dGradWeightKernel(run: KernelRunner, x: Float32Array, dy: Float32Array, p: Conv2dParams): Maybe<Float32Array> {
  const { n, cIn, h, w, cOut, kH, kW, strideH, strideW, padH, padW, dilationH, dilationW, groups, hOut, wOut } = p;
  const cInG = cIn / groups;
  const cOutG = cOut / groups;
  const size = cOut * cInG * kH * kW;
  if (size === 0) return new Float32Array(0);
  if (n === 0) return new Float32Array(size);
  const body = [
    decompose('i', [cOut, cInG, kH, kW], 'p'),
    // p0 output channel (group g), p1 input channel inside the group, p2 / p3 kernel row / column.
    `const g = ${idiv('p0', cOutG)};`,
    'let acc = 0.0;',
    `for (let b = 0; b < ${int(n)}; b++) {`,
    `  const xPlane = (b * ${f(cIn)} + g * ${f(cInG)} + p1) * ${f(h * w)};`,
    `  const dyPlane = (b * ${f(cOut)} + p0) * ${f(hOut * wOut)};`,
    `  for (let oh = 0; oh < ${int(hOut)}; oh++) {`,
    `    const ih = oh * ${f(strideH)} - ${f(padH)} + p2 * ${f(dilationH)};`,
    `    if (ih >= 0.0 && ih < ${f(h)}) {`,
    `      for (let ow = 0; ow < ${int(wOut)}; ow++) {`,
    `        const iw = ow * ${f(strideW)} - ${f(padW)} + p3 * ${f(dilationW)};`,
    `        if (iw >= 0.0 && iw < ${f(w)}) {`,
    `          acc += dy[dyPlane + oh * ${f(wOut)} + ow] * x[xPlane + ih * ${f(w)} + iw];`,
    '        }',
    '      }',
    '    }',
    '  }',
    '}',
    'return acc;',
  ].join('\n');
  return run.run({ kernel: 'conv2dGradWeight', source: kernelSource(['x', 'dy'], body), size, args: [x, dy] });
}

export { conv1dAsConv2d } from '../../reference/conv.js';
