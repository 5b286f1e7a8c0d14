/**
 * float32 binary arithmetic over a (rows, cols) block in WebAssembly SIMD, for the float32 math module.
 *
 * out[r * cols + c] = a[r * ra + c * ca] op b[r * rb + c * cb], with byte row strides ra, rb and column steps
 * ca, cb of 1 (contiguous) or 0 (one value per row, splat). That covers what tensor-core sends most: same-shape
 * operands (one row), a bias row broadcast down a matrix (rb = 0), a per-row scale (cb = 0) and a scalar.
 * The four (ca, cb) cases are four loops, chosen once per row; a row's last cols % 4 elements run in scalar code.
 * maximum and minimum propagate NaN (f32x4.max/min and f32.max/min do), as torch.maximum does; comparisons give
 * 1 or 0, false for NaN except ne, as the reference's.
 */
import { FunctionBuilder, add, eq, f32Load, f32Store, i32, mul, sub, and, when, v128Load as vload, v128Load32Splat as splat, v128Zero as zero, type Code } from './code.js';
import { op } from './opcodes.js';

export const F32_BINARY_OPS = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
export type F32BinaryOp = (typeof F32_BINARY_OPS)[number];

type Expr = (a: Code, b: Code) => Code;
const vbin = (opcode: readonly number[]): Expr => (a, b) => [a, b, opcode];
const ONE_BITS = [0, 0, 0x80, 0x3f]; // 1.0f, little-endian
const ONES: Code = [op.v128Const, [...ONE_BITS, ...ONE_BITS, ...ONE_BITS, ...ONE_BITS]];
/** A comparison gives 1 or 0 (in float32, as the reference): its all-ones lane mask AND the bits of 1.0. */
const vcmp = (opcode: readonly number[]): Expr => (a, b) => [[a, b, opcode], ONES, op.v128And];
const scmp = (opcode: readonly number[]): Expr => (a, b) => [a, b, opcode, op.f32ConvertI32S];

const VECTOR: Record<F32BinaryOp, Expr> = {
  add: vbin(op.f32x4Add),
  sub: vbin(op.f32x4Sub),
  mul: vbin(op.f32x4Mul),
  div: vbin(op.f32x4Div),
  maximum: vbin(op.f32x4NanMax),
  minimum: vbin(op.f32x4Min),
  eq: vcmp(op.f32x4Eq),
  ne: vcmp(op.f32x4Ne),
  lt: vcmp(op.f32x4Lt),
  le: vcmp(op.f32x4Le),
  gt: vcmp(op.f32x4Gt),
  ge: vcmp(op.f32x4Ge),
};
const SCALAR: Record<F32BinaryOp, Expr> = {
  add: vbin(op.f32Add),
  sub: vbin(op.f32Sub),
  mul: vbin(op.f32Mul),
  div: vbin(op.f32Div),
  maximum: vbin(op.f32Max),
  minimum: vbin(op.f32Min),
  eq: scmp(op.f32Eq),
  ne: scmp(op.f32Ne),
  lt: scmp(op.f32Lt),
  le: scmp(op.f32Le),
  gt: scmp(op.f32Gt),
  ge: scmp(op.f32Ge),
};

/**
 * The exported function of one op: (a, ra, ca, b, rb, cb, out, r0, r1, cols, inner, oa, ob), addresses and
 * strides in bytes; it computes rows [r0, r1), so threads can split the rows. Rows come in groups of `inner`:
 * row r = o * inner + i starts at a + o * oa + i * ra (likewise b), which covers a third, outer dimension such as
 * (E, T, 1) * (1, T, N); plain (rows, cols) blocks pass inner = 2^31 - 1 and oa = ob = 0.
 */
export function binaryFunction(name: F32BinaryOp): { fn: FunctionBuilder; body: Code } {
  const f = new FunctionBuilder({
    a: 'i32', ra: 'i32', ca: 'i32', b: 'i32', rb: 'i32', cb: 'i32', out: 'i32', r0: 'i32', r1: 'i32', cols: 'i32', inner: 'i32', oa: 'i32', ob: 'i32',
  });
  f.locals('i32', 'r', 'i', 'pa', 'pb', 'po', 'vecBytes', 'rowBytes', 'o', 'ri');
  f.locals('v128', 'sa', 'sb');
  const vop = VECTOR[name];
  const sop = SCALAR[name];
  const at = (base: string) => add(f.get(base), f.get('i'));
  // One loop per (ca, cb): the operand with step 0 is splat once per row.
  const loop = (ca: boolean, cb: boolean): Code => [
    ca ? [] : f.set('sa', splat(f.get('pa'))),
    cb ? [] : f.set('sb', splat(f.get('pb'))),
    f.forRange('i', i32(0), f.get('vecBytes'), i32(16), [
      [at('po'), vop(ca ? vload(at('pa')) : f.get('sa'), cb ? vload(at('pb')) : f.get('sb')), op.v128Store, [2, 0]],
    ]),
    f.forRange('i', f.get('vecBytes'), f.get('rowBytes'), i32(4), [
      f32Store(at('po'), sop(ca ? f32Load(at('pa')) : f32Load(f.get('pa')), cb ? f32Load(at('pb')) : f32Load(f.get('pb')))),
    ]),
  ];
  const isOne = (name: string) => eq(f.get(name), i32(1));
  const notOne = (name: string) => [f.get(name), i32(1), op.i32Ne];
  const both = (x: Code, y: Code): Code => and(x, y);
  const body: Code = [
    f.set('rowBytes', mul(f.get('cols'), i32(4))),
    f.set('vecBytes', and(f.get('rowBytes'), i32(-16))),
    f.forRange('r', f.get('r0'), f.get('r1'), i32(1), [
      f.set('o', [f.get('r'), f.get('inner'), op.i32DivU]), // (outer, inner) of row r
      f.set('ri', sub(f.get('r'), mul(f.get('o'), f.get('inner')))),
      f.set('pa', add(add(f.get('a'), mul(f.get('o'), f.get('oa'))), mul(f.get('ri'), f.get('ra')))),
      f.set('pb', add(add(f.get('b'), mul(f.get('o'), f.get('ob'))), mul(f.get('ri'), f.get('rb')))),
      f.set('po', add(f.get('out'), mul(f.get('r'), f.get('rowBytes')))),
      when(both(isOne('ca'), isOne('cb')), loop(true, true)),
      when(both(isOne('ca'), notOne('cb')), loop(true, false)),
      when(both(notOne('ca'), isOne('cb')), loop(false, true)),
      when(both(notOne('ca'), notOne('cb')), loop(false, false)),
    ]),
  ];
  return { fn: f, body };
}

/**
 * `where` over a (rows, cols) block: out = c != 0 ? a : b, each of the three operands with its own byte row stride
 * and column step of 1 or 0, like the binary ops. A NaN condition counts as true (NaN != 0), -0 as false, as the
 * reference's `cond !== 0`. Params (c, rc, cc, a, ra, ca, b, rb, cb, out, r0, r1, cols): rows [r0, r1).
 */
export function whereFunction(): { fn: FunctionBuilder; body: Code } {
  const f = new FunctionBuilder({
    c: 'i32', rc: 'i32', cc: 'i32', a: 'i32', ra: 'i32', ca: 'i32', b: 'i32', rb: 'i32', cb: 'i32', out: 'i32', r0: 'i32', r1: 'i32', cols: 'i32',
  });
  f.locals('i32', 'r', 'i', 'pc', 'pa', 'pb', 'po', 'vecBytes', 'rowBytes');
  f.locals('v128', 'sc', 'sa', 'sb');
  const at = (base: string) => add(f.get(base), f.get('i'));
  const operands = [
    { step: 'cc', ptr: 'pc', splatted: 'sc' },
    { step: 'ca', ptr: 'pa', splatted: 'sa' },
    { step: 'cb', ptr: 'pb', splatted: 'sb' },
  ] as const;
  const loop = (contiguous: readonly boolean[]): Code => {
    const v = operands.map((o, k) => (contiguous[k] ? vload(at(o.ptr)) : f.get(o.splatted)));
    const s = operands.map((o, k) => (contiguous[k] ? f32Load(at(o.ptr)) : f32Load(f.get(o.ptr))));
    return [
      operands.map((o, k) => (contiguous[k] ? [] : f.set(o.splatted, splat(f.get(o.ptr))))),
      f.forRange('i', i32(0), f.get('vecBytes'), i32(16), [
        [at('po'), [v[1], v[2], [v[0], zero, op.f32x4Ne], op.v128Bitselect], op.v128Store, [2, 0]],
      ]),
      f.forRange('i', f.get('vecBytes'), f.get('rowBytes'), i32(4), [
        f32Store(at('po'), [s[1], s[2], [s[0], [op.f32Const, [0, 0, 0, 0]], op.f32Ne], op.select]),
      ]),
    ];
  };
  const cases: Code[] = [];
  for (let m = 0; m < 8; m++) {
    const contiguous = [0, 1, 2].map((k) => ((m >> k) & 1) === 1);
    const test = contiguous
      .map((isOne, k) => (isOne ? eq(f.get(operands[k].step), i32(1)) : [f.get(operands[k].step), i32(1), op.i32Ne]))
      .reduce((x, y) => and(x, y));
    cases.push(when(test, loop(contiguous)));
  }
  const body: Code = [
    f.set('rowBytes', mul(f.get('cols'), i32(4))),
    f.set('vecBytes', and(f.get('rowBytes'), i32(-16))),
    f.forRange('r', f.get('r0'), f.get('r1'), i32(1), [
      f.set('pc', add(f.get('c'), mul(f.get('r'), f.get('rc')))),
      f.set('pa', add(f.get('a'), mul(f.get('r'), f.get('ra')))),
      f.set('pb', add(f.get('b'), mul(f.get('r'), f.get('rb')))),
      f.set('po', add(f.get('out'), mul(f.get('r'), f.get('rowBytes')))),
      cases,
    ]),
  ];
  return { fn: f, body };
}
