/**
 * float32 scans along the middle axis of (outer, size, inner) in WebAssembly SIMD, for the float32 math module:
 * the linear recurrence h_t = a_t h_(t-1) + b_t (the chunked selective scan's inner loop) and cumsum (its b-only
 * case, causal linear attention's prefix sums).
 *
 * Step by step over whole rows of `inner` states kept in a scratch row of memory, four states per vector, so every
 * operand is read in memory order; a row's last inner % 4 states run in scalar code. The states are float32, as in
 * Mamba's reference scan kernels (the TypeScript reference keeps float64 states).
 * Params (a, b, h0, out, scratch, o0, o1, size, inner, reverse, hasH0, cumsum): outer rows [o0, o1); with
 * cumsum = 1 the recurrence is h_t = h_(t-1) + b_t and `a` is not read; `scratch` holds (o1 - o0 rows of) one
 * row of `inner` floats per outer index (the caller gives each outer index its own).
 */
import { FunctionBuilder, add, and, f32Load, f32Store, i32, mul, sub, v128Load as vload, v128Store as vstore, v128Zero as zero, type Code } from './code.js';
import { op } from './opcodes.js';

export function scanFunction(): { fn: FunctionBuilder; body: Code } {
  const f = new FunctionBuilder({
    a: 'i32', b: 'i32', h0: 'i32', out: 'i32', scratch: 'i32', o0: 'i32', o1: 'i32', size: 'i32', inner: 'i32', reverse: 'i32', hasH0: 'i32', cumsum: 'i32',
  });
  f.locals('i32', 'o', 'step', 't', 'j', 'rowBytes', 'vecBytes', 'at', 'h', 'plane');
  const g = (n: string) => f.get(n);
  // h = a * h + b (or h + b), stored to the state row and to out.
  const vstep = (isCumsum: boolean): Code =>
    f.forRange('j', i32(0), g('vecBytes'), i32(16), [
      vstore(
        add(g('h'), g('j')),
        isCumsum
          ? [vload(add(g('h'), g('j'))), vload(add(add(g('b'), g('at')), g('j'))), op.f32x4Add]
          : [[vload(add(add(g('a'), g('at')), g('j'))), vload(add(g('h'), g('j'))), op.f32x4Mul], vload(add(add(g('b'), g('at')), g('j'))), op.f32x4Add],
      ),
      vstore(add(add(g('out'), g('at')), g('j')), vload(add(g('h'), g('j')))),
    ]);
  const sstep = (isCumsum: boolean): Code =>
    f.forRange('j', g('vecBytes'), g('rowBytes'), i32(4), [
      f32Store(
        add(g('h'), g('j')),
        isCumsum
          ? [f32Load(add(g('h'), g('j'))), f32Load(add(add(g('b'), g('at')), g('j'))), op.f32Add]
          : [[f32Load(add(add(g('a'), g('at')), g('j'))), f32Load(add(g('h'), g('j'))), op.f32Mul], f32Load(add(add(g('b'), g('at')), g('j'))), op.f32Add],
      ),
      f32Store(add(add(g('out'), g('at')), g('j')), f32Load(add(g('h'), g('j')))),
    ]);
  const steps = (isCumsum: boolean): Code =>
    f.forRange('step', i32(0), g('size'), i32(1), [
      f.set('t', [sub(sub(g('size'), i32(1)), g('step')), g('step'), g('reverse'), op.select]),
      f.set('at', add(g('plane'), mul(g('t'), g('rowBytes')))), // byte offset of row (o, t)
      vstep(isCumsum),
      sstep(isCumsum),
    ]);
  const body: Code = [
    f.set('rowBytes', mul(g('inner'), i32(4))),
    f.set('vecBytes', and(g('rowBytes'), i32(-16))),
    f.forRange('o', g('o0'), g('o1'), i32(1), [
      f.set('plane', mul(mul(g('o'), g('size')), g('rowBytes'))),
      f.set('h', add(g('scratch'), mul(g('o'), g('rowBytes')))),
      // The state row starts at h0's row, or 0.
      [g('hasH0'), op.if, 0x40,
        f.forRange('j', i32(0), g('rowBytes'), i32(4), [f32Store(add(g('h'), g('j')), f32Load(add(add(g('h0'), mul(g('o'), g('rowBytes'))), g('j'))))]),
      op.else,
        f.forRange('j', i32(0), g('vecBytes'), i32(16), [vstore(add(g('h'), g('j')), zero)]),
        f.forRange('j', g('vecBytes'), g('rowBytes'), i32(4), [f32Store(add(g('h'), g('j')), [op.f32Const, [0, 0, 0, 0]])]),
      op.end],
      [g('cumsum'), op.if, 0x40, steps(true), op.else, steps(false), op.end],
    ]),
  ];
  return { fn: f, body };
}
