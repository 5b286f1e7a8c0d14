/**
 * float32 layer norm and RMS norm over rows in WebAssembly SIMD, for the float32 math module.
 *
 * Layer norm (Ba, Kiros & Hinton 2016): y = (x - mean) * rstd * w + b, rstd = 1 / sqrt(var + eps), the biased
 * variance taken in a second pass over (x - mean), as the reference and torch.nn.functional.layer_norm. RMS norm
 * (Zhang & Sennrich 2019): y = x * rstd * w, rstd = 1 / sqrt(mean(x^2) + eps). Sums run in four float32 lanes
 * (the reference sums in float64), then across lanes; a row's last cols % 4 elements run in scalar code. The
 * host passes w = 1 and b = 0 rows when the norm has no affine parameters.
 */
import { FunctionBuilder, add, and, f32Load, f32Store, i32, mul, v128Load as vload, v128Store as vstore, type Code } from './code.js';
import { op } from './opcodes.js';

/**
 * (src, dst, w, b, r0, r1, cols, mean, rstd, epsBits, rms): rows [r0, r1), addresses in bytes, eps as its float32
 * bits; mean is not written when rms = 1.
 */
export function normFunction(): { fn: FunctionBuilder; body: Code } {
  const f = new FunctionBuilder({
    src: 'i32', dst: 'i32', w: 'i32', b: 'i32', r0: 'i32', r1: 'i32', cols: 'i32', mean: 'i32', rstd: 'i32', epsBits: 'i32', rms: 'i32',
  });
  f.locals('i32', 'r', 'i', 'in', 'out', 'rowBytes', 'vecBytes');
  f.locals('f32', 'n', 'mu', 'rs', 'acc', 'd', 'eps');
  f.locals('v128', 'vacc', 'vmu', 'vrs', 'vd');
  const g = (n: string) => f.get(n);
  const lane = (v: Code, k: number): Code => [v, op.f32x4ExtractLane, k];
  const hsum = (v: Code): Code => [[lane(v, 0), lane(v, 1), op.f32Add], [lane(v, 2), lane(v, 3), op.f32Add], op.f32Add];
  const at = (base: string) => add(g(base), g('i'));
  const vsub = (a: Code, b: Code): Code => [a, b, op.f32x4Sub];
  const vmul = (a: Code, b: Code): Code => [a, b, op.f32x4Mul];
  const vadd = (a: Code, b: Code): Code => [a, b, op.f32x4Add];
  const fsub = (a: Code, b: Code): Code => [a, b, op.f32Sub];
  const fmul = (a: Code, b: Code): Code => [a, b, op.f32Mul];
  const fadd = (a: Code, b: Code): Code => [a, b, op.f32Add];
  /** sum over the row of term(x) (vector form and scalar form). */
  const rowSum = (vterm: (x: Code) => Code, sterm: (x: Code) => Code): Code => [
    f.set('vacc', [op.v128Const, new Array<number>(16).fill(0)]),
    f.forRange('i', i32(0), g('vecBytes'), i32(16), [f.set('vacc', vadd(g('vacc'), vterm(vload(at('in')))))]),
    f.set('acc', hsum(g('vacc'))),
    f.forRange('i', g('vecBytes'), g('rowBytes'), i32(4), [f.set('acc', fadd(g('acc'), sterm(f32Load(at('in')))))]),
  ];
  const centred = (x: Code, mu: Code): Code => [x, mu, op.f32x4Sub];
  const body: Code = [
    f.set('rowBytes', mul(g('cols'), i32(4))),
    f.set('vecBytes', and(g('rowBytes'), i32(-16))),
    f.set('n', [g('cols'), op.f32ConvertI32S]),
    f.set('eps', [g('epsBits'), op.f32ReinterpretI32]), // eps arrives as its bits: thread rounds pass only i32s
    f.forRange('r', g('r0'), g('r1'), i32(1), [
      f.set('in', add(g('src'), mul(g('r'), g('rowBytes')))),
      f.set('out', add(g('dst'), mul(g('r'), g('rowBytes')))),
      // Layer norm: mean first; RMS norm centres on 0.
      f.set('mu', [op.f32Const, [0, 0, 0, 0]]),
      [g('rms'), op.i32Eqz, op.if, 0x40,
        rowSum((x) => x, (x) => x),
        f.set('mu', [g('acc'), g('n'), op.f32Div]),
        f32Store(add(g('mean'), mul(g('r'), i32(4))), g('mu')),
      op.end],
      f.set('vmu', [g('mu'), op.f32x4Splat]),
      rowSum(
        (x) => [f.set('vd', centred(x, g('vmu'))), vmul(g('vd'), g('vd'))],
        (x) => [f.set('d', fsub(x, g('mu'))), fmul(g('d'), g('d'))],
      ),
      f.set('rs', [[op.f32Const, [0, 0, 0x80, 0x3f]], [[[g('acc'), g('n'), op.f32Div], g('eps'), op.f32Add], op.f32Sqrt], op.f32Div]),
      f32Store(add(g('rstd'), mul(g('r'), i32(4))), g('rs')),
      f.set('vrs', [g('rs'), op.f32x4Splat]),
      f.forRange('i', i32(0), g('vecBytes'), i32(16), [
        vstore(at('out'), vadd(vmul(vmul(vsub(vload(at('in')), g('vmu')), g('vrs')), vload(at('w'))), vload(at('b')))),
      ]),
      f.forRange('i', g('vecBytes'), g('rowBytes'), i32(4), [
        f32Store(at('out'), fadd(fmul(fmul(fsub(f32Load(at('in')), g('mu')), g('rs')), f32Load(at('w'))), f32Load(at('b')))),
      ]),
    ]),
  ];
  return { fn: f, body };
}
