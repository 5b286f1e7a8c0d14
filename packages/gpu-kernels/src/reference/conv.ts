import type { Conv1dParams, Conv2dParams, DType, TypedArray } from '../types.js';
import { allocate, requireFloat, requireLength } from './dtype.js';

/**
 * Direct convolutions with torch.nn.functional.conv2d semantics (cross-correlation, zero padding, stride,
 * dilation, groups): input (N, C_in, H, W), weight (C_out, C_in / groups, kH, kW), output (N, C_out, H_out, W_out).
 * Output channel co reads the input channels of its group g = floor(co / (C_out / groups)). Each output plane
 * accumulates in float64 and is rounded once into the dtype.
 */
export function conv2d(x: TypedArray, weight: TypedArray, dtype: DType, p: Conv2dParams): TypedArray {
  requireFloat('conv2d', dtype);
  const { n, cIn, h, w, cOut, kH, kW, strideH, strideW, padH, padW, dilationH, dilationW, groups, hOut, wOut } = p;
  const cInG = cIn / groups;
  const cOutG = cOut / groups;
  requireLength('conv2d', 'x', x, n * cIn * h * w);
  requireLength('conv2d', 'weight', weight, cOut * cInG * kH * kW);
  const out = allocate(dtype, n * cOut * hOut * wOut);
  const plane = new Float64Array(hOut * wOut);
  for (let b = 0; b < n; b++) {
    for (let co = 0; co < cOut; co++) {
      const g = Math.floor(co / cOutG);
      plane.fill(0);
      for (let cg = 0; cg < cInG; cg++) {
        const xPlane = (b * cIn + g * cInG + cg) * h * w;
        for (let i = 0; i < kH; i++) {
          for (let j = 0; j < kW; j++) {
            const wv = weight[((co * cInG + cg) * kH + i) * kW + j];
            // The output columns whose input column iw = ow * strideW - padW + j * dilationW lies in [0, w), so
            // the inner loop has no bounds test.
            const shift = j * dilationW - padW;
            const owLo = Math.max(0, Math.ceil(-shift / strideW));
            const owHi = Math.min(wOut, Math.floor((w - 1 - shift) / strideW) + 1);
            for (let oh = 0; oh < hOut; oh++) {
              const ih = oh * strideH - padH + i * dilationH;
              if (ih < 0 || ih >= h) continue;
              const row = xPlane + ih * w + shift;
              const at = oh * wOut;
              for (let ow = owLo; ow < owHi; ow++) plane[at + ow] += wv * x[row + ow * strideW];
            }
          }
        }
      }
      out.set(plane, (b * cOut + co) * hOut * wOut);
    }
  }
  return out;
}

/**
 * dL/dx of conv2d given dy (N, C_out, H_out, W_out): the transposed convolution. Every product
 * dy[b, co, oh, ow] * weight[co, cg, i, j] flows back to the input pixel that produced it, accumulated in float64.
 */
export function conv2dGradInput(dy: TypedArray, weight: TypedArray, dtype: DType, p: Conv2dParams): TypedArray {
  requireFloat('conv2dGradInput', dtype);
  const { n, cIn, h, w, cOut, kH, kW, strideH, strideW, padH, padW, dilationH, dilationW, groups, hOut, wOut } = p;
  const cInG = cIn / groups;
  const cOutG = cOut / groups;
  requireLength('conv2dGradInput', 'dy', dy, n * cOut * hOut * wOut);
  requireLength('conv2dGradInput', 'weight', weight, cOut * cInG * kH * kW);
  const acc = new Float64Array(n * cIn * h * w);
  for (let b = 0; b < n; b++) {
    for (let co = 0; co < cOut; co++) {
      const g = Math.floor(co / cOutG);
      const dyPlane = (b * cOut + co) * hOut * wOut;
      for (let cg = 0; cg < cInG; cg++) {
        const xPlane = (b * cIn + g * cInG + cg) * h * w;
        for (let i = 0; i < kH; i++) {
          for (let j = 0; j < kW; j++) {
            const wv = weight[((co * cInG + cg) * kH + i) * kW + j];
            for (let oh = 0; oh < hOut; oh++) {
              const ih = oh * strideH - padH + i * dilationH;
              if (ih < 0 || ih >= h) continue;
              for (let ow = 0; ow < wOut; ow++) {
                const iw = ow * strideW - padW + j * dilationW;
                if (iw < 0 || iw >= w) continue;
                acc[xPlane + ih * w + iw] += wv * dy[dyPlane + oh * wOut + ow];
              }
            }
          }
        }
      }
    }
  }
  const out = allocate(dtype, acc.length);
  out.set(acc);
  return out;
}

/** dL/dweight of conv2d: weight-shaped (C_out, C_in / groups, kH, kW) sums of dy times the input patch it saw. */
export function conv2dGradWeight(x: TypedArray, dy: TypedArray, dtype: DType, p: Conv2dParams): TypedArray {
  requireFloat('conv2dGradWeight', dtype);
  const { n, cIn, h, w, cOut, kH, kW, strideH, strideW, padH, padW, dilationH, dilationW, groups, hOut, wOut } = p;
  const cInG = cIn / groups;
  const cOutG = cOut / groups;
  requireLength('conv2dGradWeight', 'x', x, n * cIn * h * w);
  requireLength('conv2dGradWeight', 'dy', dy, n * cOut * hOut * wOut);
  const out = allocate(dtype, cOut * cInG * kH * kW);
  for (let co = 0; co < cOut; co++) {
    const g = Math.floor(co / cOutG);
    for (let cg = 0; cg < cInG; cg++) {
      for (let i = 0; i < kH; i++) {
        for (let j = 0; j < kW; j++) {
          let acc = 0;
          for (let b = 0; b < n; b++) {
            const xPlane = (b * cIn + g * cInG + cg) * h * w;
            const dyPlane = (b * cOut + co) * hOut * wOut;
            for (let oh = 0; oh < hOut; oh++) {
              const ih = oh * strideH - padH + i * dilationH;
              if (ih < 0 || ih >= h) continue;
              for (let ow = 0; ow < wOut; ow++) {
                const iw = ow * strideW - padW + j * dilationW;
                if (iw < 0 || iw >= w) continue;
                acc += dy[dyPlane + oh * wOut + ow] * x[xPlane + ih * w + iw];
              }
            }
          }
          out[((co * cInG + cg) * kH + i) * kW + j] = acc;
        }
      }
    }
  }
  return out;
}

/** conv1d as conv2d with a height of 1: x (N, C_in, L), weight (C_out, C_in / groups, k), y (N, C_out, L_out). */
export function conv1dAsConv2d(p: Conv1dParams): Conv2dParams {
  return {
    n: p.n,
    cIn: p.cIn,
    h: 1,
    w: p.l,
    cOut: p.cOut,
    kH: 1,
    kW: p.k,
    strideH: 1,
    strideW: p.stride,
    padH: 0,
    padW: p.pad,
    dilationH: 1,
    dilationW: p.dilation,
    groups: p.groups,
    hOut: 1,
    wOut: p.lOut,
  };
}

/** conv1d through conv2d (conv1dAsConv2d). */
export function conv1d(x: TypedArray, weight: TypedArray, dtype: DType, p: Conv1dParams): TypedArray {
  requireFloat('conv1d', dtype);
  return conv2d(x, weight, dtype, conv1dAsConv2d(p));
}
