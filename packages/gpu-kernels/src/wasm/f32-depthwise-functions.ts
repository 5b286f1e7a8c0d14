/**
 * float32 depthwise 2-D convolution (groups = channels, one filter per channel) at stride 1 in WebAssembly SIMD,
 * for the float32 math module: CPVT's PEG (3x3 over the patch grid) and Mamba's causal conv1d (1 x 4 over the
 * sequence, through the conv1d-as-conv2d mapping) are this kernel.
 *
 * The host copies each plane into memory with its zero padding written out, so the kernel has no bounds tests:
 * out[oh, ow] = sum over taps (i, j) of w[i, j] * xp[oh + i * dH, ow + j * dW], accumulated tap by tap over a
 * row (four output columns per vector, unaligned loads), a row's last wOut % 4 columns in scalar code.
 * Params (src, dst, w, c0, c1, hp, wp, hOut, wOut, kH, kW, dH, dW): planes [c0, c1); addresses in bytes, sizes
 * in elements.
 */
import { FunctionBuilder, add, and, f32Load, f32Store, i32, mul, v128Load as vload, v128Store as vstore, v128Zero as zero, type Code } from './code.js';
import { op } from './opcodes.js';

export function depthwiseFunction(): { fn: FunctionBuilder; body: Code } {
  const f = new FunctionBuilder({
    src: 'i32', dst: 'i32', w: 'i32', c0: 'i32', c1: 'i32', hp: 'i32', wp: 'i32', hOut: 'i32', wOut: 'i32', kH: 'i32', kW: 'i32', dH: 'i32', dW: 'i32',
  });
  f.locals('i32', 'c', 'oh', 'i', 'j', 'o', 'inPlane', 'outPlane', 'wPlane', 'inRow', 'outRow', 'rowBytes', 'vecBytes', 'tap');
  f.locals('v128', 'wv');
  f.locals('f32', 'ws');
  const g = (n: string) => f.get(n);
  const body: Code = [
    f.set('rowBytes', mul(g('wOut'), i32(4))),
    f.set('vecBytes', and(g('rowBytes'), i32(-16))),
    f.forRange('c', g('c0'), g('c1'), i32(1), [
      f.set('inPlane', add(g('src'), mul(mul(g('c'), mul(g('hp'), g('wp'))), i32(4)))),
      f.set('outPlane', add(g('dst'), mul(mul(g('c'), mul(g('hOut'), g('wOut'))), i32(4)))),
      f.set('wPlane', add(g('w'), mul(mul(g('c'), mul(g('kH'), g('kW'))), i32(4)))),
      f.forRange('oh', i32(0), g('hOut'), i32(1), [
        f.set('outRow', add(g('outPlane'), mul(g('oh'), g('rowBytes')))),
        f.forRange('o', i32(0), g('vecBytes'), i32(16), [vstore(add(g('outRow'), g('o')), zero)]),
        f.forRange('o', g('vecBytes'), g('rowBytes'), i32(4), [f32Store(add(g('outRow'), g('o')), [op.f32Const, [0, 0, 0, 0]])]),
        f.forRange('i', i32(0), g('kH'), i32(1), [
          f.forRange('j', i32(0), g('kW'), i32(1), [
            f.set('tap', add(g('wPlane'), mul(add(mul(g('i'), g('kW')), g('j')), i32(4)))),
            f.set('ws', f32Load(g('tap'))),
            f.set('wv', [g('ws'), op.f32x4Splat]),
            // Input row oh + i dH, shifted right by j dW columns.
            f.set('inRow', add(g('inPlane'), mul(add(mul(add(g('oh'), mul(g('i'), g('dH'))), g('wp')), mul(g('j'), g('dW'))), i32(4)))),
            f.forRange('o', i32(0), g('vecBytes'), i32(16), [
              vstore(add(g('outRow'), g('o')), [vload(add(g('outRow'), g('o'))), [g('wv'), vload(add(g('inRow'), g('o'))), op.f32x4Mul], op.f32x4Add]),
            ]),
            f.forRange('o', g('vecBytes'), g('rowBytes'), i32(4), [
              f32Store(add(g('outRow'), g('o')), [f32Load(add(g('outRow'), g('o'))), [g('ws'), f32Load(add(g('inRow'), g('o'))), op.f32Mul], op.f32Add]),
            ]),
          ]),
        ]),
      ]),
    ]),
  ];
  return { fn: f, body };
}
