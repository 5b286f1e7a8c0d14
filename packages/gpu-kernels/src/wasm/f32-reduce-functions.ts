/**
 * float32 reductions (sum, max, min) over the middle axis of (outer, size, inner) in WebAssembly SIMD, for the
 * float32 math module.
 *
 * Sums accumulate in float64 (each float32x4 is widened to two float64x2), as the reference kernel does, so the
 * result is the same float64 sum up to the order of its additions, rounded once. max and min use the IEEE
 * f32x4.max/min, which propagate NaN as torch does. With inner = 1 each row reduces across vector lanes; with
 * inner > 1 a row of `inner` accumulators (float64 for sum) in scratch memory takes each step's row in memory
 * order. Params (x, out, scratch, o0, o1, size, inner, kind): outer rows [o0, o1), kind 0 sum, 1 max, 2 min;
 * scratch holds 8 * inner bytes per outer index.
 */
import { FunctionBuilder, add, and, f32Load, f32Store, i32, mul, v128Load as vload, v128Store as vstore, v128Zero as zero, type Code } from './code.js';
import { op } from './opcodes.js';

/** f64x2 of the low (half 0) or high (half 1) two lanes of an f32x4. */
const widen = (v: Code, half: 0 | 1): Code =>
  half === 0 ? [v, op.f64x2PromoteLowF32x4] : [[v, v, op.i8x16Shuffle, [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]], op.f64x2PromoteLowF32x4];

export function reduceFunction(): { fn: FunctionBuilder; body: Code } {
  const f = new FunctionBuilder({ x: 'i32', out: 'i32', scratch: 'i32', o0: 'i32', o1: 'i32', size: 'i32', inner: 'i32', kind: 'i32' });
  f.locals('i32', 'o', 's', 'j', 'row', 'rowBytes', 'vecBytes', 'plane', 'acc', 'end', 'sizeBytes', 'sizeVec');
  f.locals('v128', 'v', 'd0', 'd1', 'm', 'm1', 'm2', 'm3');
  f.locals('f64', 'sum');
  f.locals('f32', 'best');
  const g = (n: string) => f.get(n);
  const vext = (kind: 'max' | 'min') => (kind === 'max' ? op.f32x4NanMax : op.f32x4Min);
  const sext = (kind: 'max' | 'min') => (kind === 'max' ? op.f32Max : op.f32Min);

  // inner = 1: a row of `size` elements.
  const rowSum: Code = [
    f.set('d0', zero),
    f.set('d1', zero),
    f.forRange('s', i32(0), g('sizeVec'), i32(16), [
      f.set('v', vload(add(g('plane'), g('s')))),
      f.set('d0', [g('d0'), widen(g('v'), 0), op.f64x2Add]),
      f.set('d1', [g('d1'), widen(g('v'), 1), op.f64x2Add]),
    ]),
    f.set('d0', [g('d0'), g('d1'), op.f64x2Add]),
    f.set('sum', [[g('d0'), op.f64x2ExtractLane, 0], [g('d0'), op.f64x2ExtractLane, 1], op.f64Add]),
    f.forRange('s', g('sizeVec'), g('sizeBytes'), i32(4), [f.set('sum', [g('sum'), [f32Load(add(g('plane'), g('s'))), op.f64PromoteF32], op.f64Add])]),
    f32Store(add(g('out'), mul(g('o'), i32(4))), [g('sum'), op.f32DemoteF64]),
  ];
  // Four accumulators: f32x4.max/min with IEEE NaN and signed-zero semantics is a chain of about eight x64
  // instructions, so one accumulator would wait on its own latency every vector.
  const rowExtreme = (kind: 'max' | 'min'): Code => [
    ['m', 'm1', 'm2', 'm3'].map((name) => f.set(name, [op.v128Const, [...new Uint8Array(new Float32Array(4).fill(kind === 'max' ? -Infinity : Infinity).buffer)]])),
    f.set('end', and(g('sizeVec'), i32(-64))),
    f.forRange('s', i32(0), g('end'), i32(64), [
      f.set('m', [g('m'), vload(add(g('plane'), g('s'))), vext(kind)]),
      f.set('m1', [g('m1'), vload(add(g('plane'), g('s')), 16), vext(kind)]),
      f.set('m2', [g('m2'), vload(add(g('plane'), g('s')), 32), vext(kind)]),
      f.set('m3', [g('m3'), vload(add(g('plane'), g('s')), 48), vext(kind)]),
    ]),
    f.forRange('s', g('end'), g('sizeVec'), i32(16), [f.set('m', [g('m'), vload(add(g('plane'), g('s'))), vext(kind)])]),
    f.set('m', [[g('m'), g('m1'), vext(kind)], [g('m2'), g('m3'), vext(kind)], vext(kind)]),
    f.set('best', [[[g('m'), op.f32x4ExtractLane, 0], [g('m'), op.f32x4ExtractLane, 1], sext(kind)], [[g('m'), op.f32x4ExtractLane, 2], [g('m'), op.f32x4ExtractLane, 3], sext(kind)], sext(kind)]),
    f.forRange('s', g('sizeVec'), g('sizeBytes'), i32(4), [f.set('best', [g('best'), f32Load(add(g('plane'), g('s'))), sext(kind)])]),
    f32Store(add(g('out'), mul(g('o'), i32(4))), g('best')),
  ];

  // inner > 1: accumulators for a row of `inner`, step by step.
  const columnsSum: Code = [
    f.set('acc', add(g('scratch'), mul(g('o'), mul(g('inner'), i32(8))))),
    f.forRange('j', i32(0), mul(g('inner'), i32(8)), i32(16), [vstore(add(g('acc'), g('j')), zero)]),
    f.forRange('s', i32(0), g('size'), i32(1), [
      f.set('row', add(g('plane'), mul(g('s'), g('rowBytes')))),
      f.forRange('j', i32(0), g('vecBytes'), i32(16), [
        f.set('v', vload(add(g('row'), g('j')))),
        // accumulator pair for floats j..j+3 lives at acc + 2 j
        vstore(add(g('acc'), mul(g('j'), i32(2))), [vload(add(g('acc'), mul(g('j'), i32(2)))), widen(g('v'), 0), op.f64x2Add]),
        vstore(add(add(g('acc'), mul(g('j'), i32(2))), i32(16)), [vload(add(add(g('acc'), mul(g('j'), i32(2))), i32(16))), widen(g('v'), 1), op.f64x2Add]),
      ]),
      f.forRange('j', g('vecBytes'), g('rowBytes'), i32(4), [
        [add(g('acc'), mul(g('j'), i32(2))), [[add(g('acc'), mul(g('j'), i32(2))), op.f64Load, [3, 0]], [f32Load(add(g('row'), g('j'))), op.f64PromoteF32], op.f64Add], op.f64Store, [3, 0]],
      ]),
    ]),
    f.forRange('j', i32(0), g('rowBytes'), i32(4), [
      f32Store(add(add(g('out'), mul(g('o'), g('rowBytes'))), g('j')), [[add(g('acc'), mul(g('j'), i32(2))), op.f64Load, [3, 0]], op.f32DemoteF64]),
    ]),
  ];
  const columnsExtreme = (kind: 'max' | 'min'): Code => [
    f.set('acc', add(g('out'), mul(g('o'), g('rowBytes')))), // the output row is the accumulator
    f.forRange('j', i32(0), g('rowBytes'), i32(4), [f32Store(add(g('acc'), g('j')), f32Load(add(g('plane'), g('j'))))]),
    f.forRange('s', i32(1), g('size'), i32(1), [
      f.set('row', add(g('plane'), mul(g('s'), g('rowBytes')))),
      f.forRange('j', i32(0), g('vecBytes'), i32(16), [vstore(add(g('acc'), g('j')), [vload(add(g('acc'), g('j'))), vload(add(g('row'), g('j'))), vext(kind)])]),
      f.forRange('j', g('vecBytes'), g('rowBytes'), i32(4), [f32Store(add(g('acc'), g('j')), [f32Load(add(g('acc'), g('j'))), f32Load(add(g('row'), g('j'))), sext(kind)])]),
    ]),
  ];
  const choose = (sumCode: Code, maxCode: Code, minCode: Code): Code => [
    [g('kind'), op.i32Eqz, op.if, 0x40, sumCode, op.else,
      [g('kind'), i32(1), op.i32Eq, op.if, 0x40, maxCode, op.else, minCode, op.end],
    op.end],
  ];
  const body: Code = [
    f.set('rowBytes', mul(g('inner'), i32(4))),
    f.set('vecBytes', and(g('rowBytes'), i32(-16))),
    f.set('sizeBytes', mul(g('size'), i32(4))),
    f.set('sizeVec', and(g('sizeBytes'), i32(-16))),
    f.forRange('o', g('o0'), g('o1'), i32(1), [
      f.set('plane', add(g('x'), mul(mul(g('o'), g('size')), g('rowBytes')))),
      [g('inner'), i32(1), op.i32Eq, op.if, 0x40,
        choose(rowSum, rowExtreme('max'), rowExtreme('min')),
      op.else,
        choose(columnsSum, columnsExtreme('max'), columnsExtreme('min')),
      op.end],
    ]),
  ];
  return { fn: f, body };
}
