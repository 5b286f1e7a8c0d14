/**
 * float32 binary arithmetic over a (rows, cols) block in WebAssembly SIMD, for the float32 math module.
 *
 * out[r * cols + c] = a[r * ra + c * ca] op b[r * rb + c * cb], with byte row strides ra, rb and column steps
 * ca, cb of 1 (contiguous) or 0 (one value per row, splat). That covers what tensor-core sends most: same-shape
 * operands (one row), a bias row broadcast down a matrix (rb = 0), a per-row scale (cb = 0) and a scalar.
 * The four (ca, cb) cases are four loops, chosen once per row; a row's last cols % 4 elements run in scalar code.
 * maximum and minimum propagate NaN (f32x4.max/min and f32.max/min do), as torch.maximum does.
 */
import { FunctionBuilder, add, eq, f32Load, f32Store, i32, mul, and, when, type Code } from './code.js';
import { op } from './opcodes.js';

export const F32_BINARY_OPS = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const;
export type F32BinaryOp = (typeof F32_BINARY_OPS)[number];

const VECTOR: Record<F32BinaryOp, readonly number[]> = {
  add: op.f32x4Add,
  sub: op.f32x4Sub,
  mul: op.f32x4Mul,
  div: op.f32x4Div,
  maximum: op.f32x4NanMax,
  minimum: op.f32x4Min,
};
const SCALAR: Record<F32BinaryOp, readonly number[]> = {
  add: op.f32Add,
  sub: op.f32Sub,
  mul: op.f32Mul,
  div: op.f32Div,
  maximum: op.f32Max,
  minimum: op.f32Min,
};

/** The exported function of one op: (a, ra, ca, b, rb, cb, out, rows, cols), addresses and row strides in bytes. */
export function binaryFunction(name: F32BinaryOp): { fn: FunctionBuilder; body: Code } {
  const f = new FunctionBuilder({ a: 'i32', ra: 'i32', ca: 'i32', b: 'i32', rb: 'i32', cb: 'i32', out: 'i32', rows: 'i32', cols: 'i32' });
  f.locals('i32', 'r', 'i', 'pa', 'pb', 'po', 'vecBytes', 'rowBytes');
  f.locals('v128', 'sa', 'sb');
  const vop = VECTOR[name];
  const sop = SCALAR[name];
  const vload = (addr: Code): Code => [addr, op.v128Load, [2, 0]];
  const splat = (addr: Code): Code => [addr, op.v128Load32Splat, [2, 0]];
  const at = (base: string) => add(f.get(base), f.get('i'));
  // One loop per (ca, cb): the operand with step 0 is splat once per row.
  const loop = (ca: boolean, cb: boolean): Code => [
    ca ? [] : f.set('sa', splat(f.get('pa'))),
    cb ? [] : f.set('sb', splat(f.get('pb'))),
    f.forRange('i', i32(0), f.get('vecBytes'), i32(16), [
      [at('po'), [ca ? vload(at('pa')) : f.get('sa'), cb ? vload(at('pb')) : f.get('sb'), vop], op.v128Store, [2, 0]],
    ]),
    f.forRange('i', f.get('vecBytes'), f.get('rowBytes'), i32(4), [
      f32Store(at('po'), [ca ? f32Load(at('pa')) : f32Load(f.get('pa')), cb ? f32Load(at('pb')) : f32Load(f.get('pb')), sop]),
    ]),
  ];
  const isOne = (name: string) => eq(f.get(name), i32(1));
  const notOne = (name: string) => [f.get(name), i32(1), op.i32Ne];
  const both = (x: Code, y: Code): Code => and(x, y);
  const body: Code = [
    f.set('rowBytes', mul(f.get('cols'), i32(4))),
    f.set('vecBytes', and(f.get('rowBytes'), i32(-16))),
    f.forRange('r', i32(0), f.get('rows'), i32(1), [
      f.set('pa', add(f.get('a'), mul(f.get('r'), f.get('ra')))),
      f.set('pb', add(f.get('b'), mul(f.get('r'), f.get('rb')))),
      f.set('po', add(f.get('out'), mul(f.get('r'), f.get('rowBytes')))),
      when(both(isOne('ca'), isOne('cb')), loop(true, true)),
      when(both(isOne('ca'), notOne('cb')), loop(true, false)),
      when(both(notOne('ca'), isOne('cb')), loop(false, true)),
      when(both(notOne('ca'), notOne('cb')), loop(false, false)),
    ]),
  ];
  return { fn: f, body };
}
