/**
 * conv1d and conv2d with torch.nn.functional semantics: stride, padding (ints, 'valid', or 'same' with torch's
 * extra right/bottom element when the total is odd), dilation and groups; unbatched inputs allowed. The backward
 * pass uses the conv2dGradInput / conv2dGradWeight kernels; conv1d's backward runs them with H = 1.
 * Second derivatives through a convolution are not recorded.
 */
import type { Conv2dParams } from '@formers/gpu-kernels';
import { record } from '../autograd.js';
import { run } from '../kernel.js';
import { fmt } from '../shape.js';
import { Tensor } from '../tensor.js';
import { add, cast, requireFloat, sameBackend } from './elementwise.js';
import { pad } from './join.js';
import { reshape, squeeze, unsqueeze } from './views.js';

export type ConvPadding = number | readonly number[] | 'same' | 'valid';

export interface Conv2dOptions {
  readonly stride?: number | readonly [number, number];
  readonly padding?: ConvPadding;
  readonly dilation?: number | readonly [number, number];
  readonly groups?: number;
}

export interface Conv1dOptions {
  readonly stride?: number;
  readonly padding?: number | 'same' | 'valid';
  readonly dilation?: number;
  readonly groups?: number;
}

function pair(op: string, arg: string, v: number | readonly number[] | undefined, dflt: number, min: number): [number, number] {
  const p = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : [...v];
  if (p.length !== 2 || p.some((x) => !Number.isInteger(x) || x < min)) {
    throw new Error(`${op}: expected ${arg} to be an integer >= ${min} or a pair of them; got ${JSON.stringify(v)}`);
  }
  return [p[0], p[1]];
}

/** Shared 2-D core on a 4-D input; returns the output before bias. */
function conv2dCore(op: string, x: Tensor, weight: Tensor, o: Conv2dOptions): Tensor {
  const [n, cIn, h0, w0] = x.shape;
  const [cOut, cInG, kH, kW] = weight.shape;
  const groups = o.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new Error(`${op}: expected groups to be a positive integer; got ${groups}`);
  if (cIn % groups !== 0 || cOut % groups !== 0) {
    throw new Error(`${op}: expected in_channels (${cIn}) and out_channels (${cOut}) divisible by groups (${groups})`);
  }
  if (cInG * groups !== cIn) {
    throw new Error(`${op}: expected weight.shape[1] (=${cInG}) to equal in_channels / groups (=${cIn / groups}); got input ${fmt(x.shape)}, weight ${fmt(weight.shape)}`);
  }
  const [sH, sW] = pair(op, 'stride', o.stride as number | number[] | undefined, 1, 1);
  const [dH, dW] = pair(op, 'dilation', o.dilation as number | number[] | undefined, 1, 1);
  let input = x;
  let pH: number;
  let pW: number;
  if (o.padding === 'valid') {
    pH = pW = 0;
  } else if (o.padding === 'same') {
    if (sH !== 1 || sW !== 1) throw new Error(`${op}: padding='same' is not supported for strided convolutions; got stride ${fmt([sH, sW])}`);
    const totH = dH * (kH - 1);
    const totW = dW * (kW - 1);
    pH = Math.floor(totH / 2);
    pW = Math.floor(totW / 2);
    // torch puts the odd element on the right/bottom.
    if (totH % 2 === 1 || totW % 2 === 1) input = pad(x, [0, totW % 2, 0, totH % 2]);
  } else {
    [pH, pW] = pair(op, 'padding', o.padding as number | number[] | undefined, 0, 0);
  }
  const h = input.shape[2];
  const w = input.shape[3];
  const hOut = Math.floor((h + 2 * pH - dH * (kH - 1) - 1) / sH) + 1;
  const wOut = Math.floor((w + 2 * pW - dW * (kW - 1) - 1) / sW) + 1;
  if (hOut <= 0 || wOut <= 0) {
    throw new Error(
      `${op}: the (padded) input ${fmt([h0 + 2 * pH, w0 + 2 * pW])} is smaller than the dilated kernel ${fmt([dH * (kH - 1) + 1, dW * (kW - 1) + 1])}`,
    );
  }
  const p: Conv2dParams = { n, cIn, h, w, cOut, kH, kW, strideH: sH, strideW: sW, padH: pH, padW: pW, dilationH: dH, dilationW: dW, groups, hOut, wOut };
  const be = x.backend;
  const y = Tensor.fromData(be, x.dtype, [n, cOut, hOut, wOut], run(be, [input, weight], ([hx, hw]) => be.conv2d(hx as never, hw as never, x.dtype, p)));
  return record('Conv2dBackward', [input, weight], [y], ([g], need) => {
    const gx = need[0] ? Tensor.fromData(be, x.dtype, input.shape, run(be, [g, weight], ([hg, hw]) => be.conv2dGradInput(hg as never, hw as never, x.dtype, p))) : null;
    const gw = need[1] ? Tensor.fromData(be, x.dtype, weight.shape, run(be, [input, g], ([hx, hg]) => be.conv2dGradWeight(hx as never, hg as never, x.dtype, p))) : null;
    return [gx, gw];
  });
}

function checkConv(op: string, x: Tensor, weight: Tensor, bias: Tensor | null | undefined, rank: number): { x: Tensor; w: Tensor; b: Tensor | null; batched: boolean } {
  requireFloat(op, x);
  requireFloat(op, weight, 'weight');
  sameBackend(op, x, weight);
  if (weight.ndim !== rank + 2) throw new Error(`${op}: expected a ${rank + 2}-D weight; got ${fmt(weight.shape)}`);
  if (x.ndim !== rank + 2 && x.ndim !== rank + 1) {
    throw new Error(`${op}: expected a ${rank + 1}-D (unbatched) or ${rank + 2}-D (batched) input; got ${fmt(x.shape)}`);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== weight.shape[0])) {
    throw new Error(`${op}: expected bias of shape [${weight.shape[0]}] (out_channels); got ${fmt(bias.shape)}`);
  }
  const batched = x.ndim === rank + 2;
  return { x: batched ? x : unsqueeze(x, 0), w: cast(weight, x.dtype), b: bias ? cast(bias, x.dtype) : null, batched };
}

/** 2-D convolution (cross-correlation) of (N, C_in, H, W) with weight (C_out, C_in / groups, kH, kW). */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const c = checkConv('conv2d', x, weight, bias, 2);
  let y = conv2dCore('conv2d', c.x, c.w, opts);
  if (c.b) y = add(y, reshape(c.b, [c.b.shape[0], 1, 1]));
  return c.batched ? y : squeeze(y, 0);
}

/** 1-D convolution of (N, C_in, L) with weight (C_out, C_in / groups, k), as a 2-D convolution with H = 1. */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv1dOptions = {}): Tensor {
  const c = checkConv('conv1d', x, weight, bias, 1);
  const pd = opts.padding;
  if (pd !== undefined && typeof pd !== 'number' && pd !== 'same' && pd !== 'valid') {
    throw new Error(`conv1d: expected padding to be an integer, 'same' or 'valid'; got ${JSON.stringify(pd)}`);
  }
  const x4 = unsqueeze(c.x, 2); // (N, C_in, 1, L)
  const w4 = unsqueeze(c.w, 2); // (C_out, C_in/g, 1, k)
  const padding: ConvPadding = pd === undefined ? 0 : typeof pd === 'number' ? [0, pd] : pd;
  let y = squeeze(
    conv2dCore('conv1d', x4, w4, { stride: [1, opts.stride ?? 1], dilation: [1, opts.dilation ?? 1], padding, groups: opts.groups }),
    2,
  ); // (N, C_out, L_out)
  if (c.b) y = add(y, reshape(c.b, [c.b.shape[0], 1]));
  return c.batched ? y : squeeze(y, 0);
}

