/**
 * The float32 transcendental module: exp, sigmoid, SiLU, GELU (exact and tanh) elementwise, and softmax along
 * rows, four lanes at a time in WebAssembly SIMD. V8's Math.exp is a call into C++ of about 10 ns; these run
 * at under 1 ns an element, which is what softmax attention, GELU MLPs and Mamba's gates spend their time on.
 *
 * Accuracy (float32 results, checked against the float64 reference in test/wasm-f32-math.test.ts):
 * - exp: Cody & Waite range reduction x = n ln 2 + r, |r| <= ln 2 / 2, with ln 2 split in two so n ln 2 is
 *   exact; e^r by its degree-7 Taylor polynomial (truncation 5e-9 relative); 2^n built in the exponent bits in
 *   two halves, so results overflow to Infinity and underflow through the subnormals to 0 as they should.
 *   About 2 ulp at worst.
 * - sigmoid and SiLU: 1 / (1 + e^-x) and x sigmoid(x), split by sign so the negative side is e^x / (1 + e^x).
 * - GELU (exact): x Phi(x) = x erfc(-x / sqrt 2) / 2, with erfc from the Chebyshev-fitted form
 *   erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z / 2), of Numerical Recipes (Press et al., 2nd ed., 6.2), whose
 *   fractional error is below 1.2e-7 for every z >= 0, so the negative tail keeps its relative accuracy (z^2 goes
 *   into exp in two parts, so float32 rounding of it does not spoil that).
 * - GELU (tanh): 0.5 x (1 + tanh u) = x sigmoid(2u), u = sqrt(2 / pi) (x + 0.044715 x^3): no cancellation.
 * - softmax: max, exp(x - max) with the float32 sum in four lanes, times 1 / sum; a NaN makes its row NaN.
 *
 * Every function takes byte addresses in the imported memory, lengths that are multiples of 4 (the host pads
 * softmax rows with -Infinity, which adds exp(-Infinity) = 0 to the sum) and the range of rows or elements to
 * compute, so that threads sharing the memory can split a call. Only i32 arguments: a thread round passes no
 * others.
 */
import { FunctionBuilder, and, f32, f32Load, f32Store, i32, mul, add, sub, v128Load as vload, v128Store as vstore, v128Load as load, v128Store as store, type Code } from './code.js';
import { F32_BINARY_OPS, binaryFunction, whereFunction } from './f32-binary-functions.js';
import { depthwiseFunction } from './f32-depthwise-functions.js';
import { normFunction } from './f32-norm-functions.js';
import { reduceFunction } from './f32-reduce-functions.js';
import { scanFunction } from './f32-scan-functions.js';
import { ModuleBuilder } from './module-builder.js';
import { op } from './opcodes.js';

/** The elementwise maps this module exports, by the UnaryOp they implement. */
export const F32_MAP_OPS = ['exp', 'expm1', 'erf', 'sigmoid', 'silu', 'gelu', 'gelu_tanh', 'elu', 'neg', 'abs', 'relu', 'square', 'sqrt', 'reciprocal'] as const;
export type F32MapOp = (typeof F32_MAP_OPS)[number];

const f32Bytes = (v: number) => [...new Uint8Array(new Float32Array([v, v, v, v]).buffer)];
const i32Bytes = (v: number) => [...new Uint8Array(new Int32Array([v, v, v, v]).buffer)];

/**
 * Vector constants of the function being built, kept in locals that are set once before its loops: V8 does not
 * hoist a v128.const out of a loop, and rematerialising some 30 of them per vector cost a third of exp's time.
 */
class ConstantPool {
  private readonly names = new Map<string, string>();
  private readonly inits: Code[] = [];
  constructor(private readonly f: FunctionBuilder) {}
  get(bytes: number[]): Code {
    const key = bytes.join(',');
    let name = this.names.get(key);
    if (name === undefined) {
      name = `k${this.names.size}`;
      this.names.set(key, name);
      this.f.locals('v128', name);
      this.inits.push(this.f.set(name, [op.v128Const, bytes]));
    }
    return this.f.get(name);
  }
  /** The code that sets every constant used so far; emit it after building the body that uses them. */
  prologue(): Code {
    return this.inits;
  }
}
let pool: ConstantPool | null = null;
/** Whether the module being built may use relaxed-SIMD FMA for its polynomials. */
let fused = false;
/** a * b + c: one relaxed-SIMD FMA where allowed (the engine may or may not fuse; both are accurate here). */
const madd = (a: Code, b: Code, c: Code): Code => (fused ? [a, b, c, op.f32x4RelaxedMadd] : [[a, b, op.f32x4Mul], c, op.f32x4Add]);
const lanes = (v: number): Code => (pool ? pool.get(f32Bytes(v)) : [op.v128Const, f32Bytes(v)]);
const ilanes = (v: number): Code => (pool ? pool.get(i32Bytes(v)) : [op.v128Const, i32Bytes(v)]);
const v2 = (opcode: readonly number[]) => (a: Code, b: Code): Code => [a, b, opcode];
const fadd = v2(op.f32x4Add);
const fsub = v2(op.f32x4Sub);
const fmul = v2(op.f32x4Mul);
const fdiv = v2(op.f32x4Div);
const fmin = v2(op.f32x4Min);
const fmax = v2(op.f32x4NanMax);
const iadd = v2(op.i32x4Add);
const isub = v2(op.i32x4Sub);
const lane = (v: Code, k: number): Code => [v, op.f32x4ExtractLane, k];

const LOG2E = Math.LOG2E;
// ln 2 = LN2_HI + LN2_LO with LN2_HI = 355/512 (9 significant bits), so n * LN2_HI is exact for |n| < 2^15.
const LN2_HI = 0.693359375;
const LN2_LO = -2.12194440e-4;
// Arguments beyond these give Infinity and 0 anyway; clamping keeps n, and so both exponent halves, in range.
const EXP_HI = 88.8;
const EXP_LO = -104;
const SOFTMAX_EXP_LO = -88;
const SHIFTER = 12582912; // 1.5 * 2^23
const SHIFTER_BITS = 0x4b400000;
// Numerical Recipes' erfc coefficients: erfc(z) = t exp(-z^2 + sum_k c_k t^k), t = 1 / (1 + z/2).
const ERFC = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277];
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Scratch locals of the exp expansion. */
function declareExpLocals(f: FunctionBuilder): void {
  f.locals('v128', 'ex', 'el', 'en', 'er', 'ep', 'ei', 'eh');
}

/**
 * Range reduction x = n ln 2 + r into locals ex (x clamped), en (n as f32), ei (n as i32) and er (r), adding the
 * small correction `lo` (|lo| < 2) after the reduction when given, so an argument known to more than float32
 * precision as x + lo keeps it: x - n ln2_hi is exact when x and n ln2 are close.
 *
 * n = round(x log2 e) comes from the 1.5 * 2^23 shifter: adding it leaves the rounded integer in the low
 * significand bits (so its bits minus the shifter's are n as an i32), subtracting it again gives n as a float.
 * That is cheaper on x64 than f32x4.nearest + i32x4.trunc_sat_f32x4_s, which V8 expands into a fix-up sequence.
 * The clamps use pmin/pmax with x first, which keep a NaN x (and are single instructions, unlike IEEE min/max).
 */
function reduceArgument(f: FunctionBuilder, x: Code, lo: Code | null, hi: number | null, lowLimit: number): Code {
  return [
    f.set('ex', [hi === null ? x : [x, lanes(hi), op.f32x4Pmin], lanes(lowLimit), op.f32x4Max]),
    lo === null ? [] : f.set('el', lo),
    f.set('en', fadd(fmul(lo === null ? f.get('ex') : fadd(f.get('ex'), f.get('el')), lanes(LOG2E)), lanes(SHIFTER))),
    f.set('ei', isub(f.get('en'), ilanes(SHIFTER_BITS))), // n as i32
    f.set('en', fsub(f.get('en'), lanes(SHIFTER))), // n as f32
    f.set('er', fsub(fsub(f.get('ex'), fmul(f.get('en'), lanes(LN2_HI))), fmul(f.get('en'), lanes(LN2_LO)))),
    lo === null ? [] : f.set('er', fadd(f.get('er'), f.get('el'))),
  ];
}

/** 2^n for the i32 lanes of `n`, which must lie in [-127, 127] (-127 gives 0). */
const pow2 = (n: Code): Code => [iadd(n, ilanes(127)), i32(23), op.i32x4Shl];

/** Horner's rule for e^r - 1 = r (1 + r (1/2 + r (1/6 + ... + r / 7!))): no leading 1, so small r keeps its digits. */
function expm1Poly(f: FunctionBuilder): Code {
  const inv = [1, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720, 1 / 5040];
  let p: Code = lanes(inv[6]);
  for (let k = 5; k >= 0; k--) p = madd(p, f.get('er'), lanes(inv[k]));
  return fmul(p, f.get('er'));
}

/**
 * Code leaving e^(x + lo) (f32x4) on the stack; `x` is evaluated once (see reduceArgument for `lo`). With
 * `nonPositive` (softmax's x - max <= 0) there is no overflow, and values below e^-87.7 (under 2^-126) may flush to
 * 0, so one scale 2^n with n in [-127, 0] does; otherwise 2^n goes in two halves, so results overflow to Infinity
 * and underflow through the subnormals as they should.
 */
function expOf(f: FunctionBuilder, x: Code, lo: Code | null = null, nonPositive = false): Code {
  // e^r = 1 + (e^r - 1): the same Horner chain, one add more.
  const poly: Code = f.set('ep', fadd(expm1Poly(f), lanes(1)));
  if (nonPositive) return [reduceArgument(f, x, lo, null, SOFTMAX_EXP_LO), poly, fmul(f.get('ep'), pow2(f.get('ei')))];
  return [
    reduceArgument(f, x, lo, EXP_HI, EXP_LO), // n in [-150, 129]
    poly,
    f.set('eh', [f.get('ei'), i32(1), op.i32x4ShrS]), // n = h + (n - h), each half a normal exponent
    fmul(fmul(f.get('ep'), pow2(f.get('eh'))), pow2(isub(f.get('ei'), f.get('eh')))),
  ];
}

/**
 * e^x - 1 (f32x4) of the vector in local `x`: 2^n (e^r - 1) + (2^n - 1), exact in its last step for n <= 24 and
 * without cancellation (the result is at least half the larger term); n = 0 gives e^r - 1 itself, which keeps
 * the relative accuracy of small x, and +-0 pass through (expm1(-0) = -0). Above n = 24, 2^n - 1 rounds to 2^n
 * and it is e^x.
 */
function expm1Of(f: FunctionBuilder): Code {
  return [
    reduceArgument(f, f.get('x'), null, EXP_HI, SOFTMAX_EXP_LO), // n in [-127, 129]; e^-88 - 1 is -1 in float32
    f.set('ep', expm1Poly(f)), // e^r - 1
    f.set('eh', [f.get('ei'), ilanes(24), op.i32x4GtS]), // lanes where n > 24
    f.set('se', pow2([f.get('ei'), ilanes(24), op.i32x4MinS])), // 2^min(n, 24)
    f.set('sp', fadd(fmul(f.get('ep'), f.get('se')), fsub(f.get('se'), lanes(1)))), // n <= 24
    // n > 24: e^x = (e^r - 1 + 1) 2^h 2^(n - h).
    f.set('sv', [f.get('ei'), i32(1), op.i32x4ShrS]),
    f.set('sv', fmul(fmul(fadd(f.get('ep'), lanes(1)), pow2(f.get('sv'))), pow2(isub(f.get('ei'), f.get('sv'))))),
    f.set('sp', [f.get('sv'), f.get('sp'), f.get('eh'), op.v128Bitselect]),
    f.set('sp', [f.get('ep'), f.get('sp'), [f.get('ei'), ilanes(0), op.i32x4Eq], op.v128Bitselect]), // n = 0: e^r - 1
    [f.get('x'), f.get('sp'), [f.get('x'), lanes(0), op.f32x4Eq], op.v128Bitselect], // +-0 as is: expm1(-0) = -0
  ];
}

/**
 * sigmoid(v) split by sign, as the reference: e = e^-|v|, then 1 / (1 + e) for v >= 0 and e / (1 + e) below, so
 * the negative side reaches the subnormals instead of 1 / Infinity = 0.
 */
function sigmoidOf(f: FunctionBuilder, v: Code): Code {
  return [
    f.set('sv', v),
    f.set('se', expOf(f, [[f.get('sv'), op.f32x4Abs], op.f32x4Neg])),
    f.set('sp', fdiv(lanes(1), fadd(lanes(1), f.get('se')))),
    [fmul(f.get('se'), f.get('sp')), f.get('sp'), [f.get('sv'), lanes(0), op.f32x4Lt], op.v128Bitselect],
  ];
}

/**
 * erf(x) of the vector in local `x`: below |x| = 0.5 its Maclaurin series 2/sqrt(pi) sum (-1)^n x^(2n+1) /
 * (n! (2n + 1)) to n = 7 (the first term left out is under 1e-9 relative), so small x keeps its relative accuracy;
 * above, sign(x) (1 - erfc(|x|)) with the erfc fit below, where 1 - erfc >= 0.52 does not cancel.
 */
function erfOf(f: FunctionBuilder): Code {
  let series: Code = lanes(((2 / Math.sqrt(Math.PI)) * (-1) ** 7) / (5040 * 15));
  for (let n = 6; n >= 0; n--) {
    let factorial = 1;
    for (let k = 2; k <= n; k++) factorial *= k;
    series = madd(series, f.get('z'), lanes(((2 / Math.sqrt(Math.PI)) * (-1) ** n) / (factorial * (2 * n + 1))));
  }
  let p: Code = lanes(ERFC[9]);
  for (let k = 8; k >= 0; k--) p = madd(p, f.get('t'), lanes(ERFC[k]));
  return [
    f.set('xin', [f.get('x'), op.f32x4Abs]), // |x|
    f.set('z', fmul(f.get('x'), f.get('x'))), // the series runs in x^2
    f.set('q', fmul(series, f.get('x'))), // small |x|
    f.set('xh', [f.get('xin'), lanes(10), op.f32x4Pmin]), // erfc(10) is 0 in float32: keeps t and exp finite
    f.set('t', fdiv(lanes(1), fadd(lanes(1), fmul(f.get('xh'), lanes(0.5))))),
    f.set('sp', fsub(lanes(1), fmul(f.get('t'), expOf(f, fadd([fmul(f.get('xh'), f.get('xh')), op.f32x4Neg], p))))), // 1 - erfc(|x|)
    // Put x's sign on it (|x| < 0.5 lanes and NaN take the series), then choose by |x|.
    f.set('sp', [[f.get('sp'), ilanes(0x7fffffff), op.v128And], [f.get('x'), ilanes(-0x80000000), op.v128And], op.v128Or]),
    [f.get('sp'), f.get('q'), [f.get('xin'), lanes(0.5), op.f32x4Ge], op.v128Bitselect],
  ];
}

/** GELU(x) = x erfc(-x / sqrt 2) / 2 of the vector in local `x` (which it clamps; the input stays in `xin`). */
function geluOf(f: FunctionBuilder): Code {
  // z = |x| / sqrt 2; erfc(|y|) = t exp(-z^2 + P(t)); for x > 0, erfc(-z) = 2 - erfc(z).
  let p: Code = lanes(ERFC[9]);
  for (let k = 8; k >= 0; k--) p = madd(p, f.get('t'), lanes(ERFC[k]));
  // z^2 = x^2 / 2 enters exp as an exact head -xh^2 / 2 (xh: x with its low 12 significand bits cleared, so xh^2
  // fits float32's 24 bits) plus a small tail -xl (x + xh) / 2: a float32 z^2 alone would carry an absolute error
  // of up to 4e-6 into the exponent at z = 8, and so a relative one into the result.
  // Phi is computed at x clamped to [-20, 20] (where it is 0 or 1 to float32 already), so +-Infinity gives
  // x * 1 and -Infinity * 0 = NaN, as the reference, instead of Infinity - Infinity in the split below.
  return [
    f.set('x', fmax(fmin(f.get('x'), lanes(20)), lanes(-20))),
    f.set('z', fmul([f.get('x'), op.f32x4Abs], lanes(Math.SQRT1_2))),
    f.set('t', fdiv(lanes(1), fadd(lanes(1), fmul(f.get('z'), lanes(0.5))))),
    f.set('xh', [f.get('x'), ilanes(-4096), op.v128And]),
    f.set(
      'q',
      fmul(
        f.get('t'),
        expOf(
          f,
          fmul(fmul(f.get('xh'), f.get('xh')), lanes(-0.5)),
          fadd(fmul(fmul(fsub(f.get('x'), f.get('xh')), fadd(f.get('x'), f.get('xh'))), lanes(-0.5)), p),
        ),
      ),
    ), // erfc(z)
    // x < 0: Phi(x) = erfc(z) / 2; else 1 - erfc(z) / 2. bitselect(a, b, mask) takes a where the mask is set.
    fmul(
      f.get('xin'),
      [fmul(f.get('q'), lanes(0.5)), fsub(lanes(1), fmul(f.get('q'), lanes(0.5))), [f.get('x'), lanes(0), op.f32x4Lt], op.v128Bitselect],
    ),
  ];
}

/** dst[i] = fn(src[i]) for e0 <= i < e1 (multiples of 4). */
function mapFunction(opName: F32MapOp): { fn: FunctionBuilder; body: Code } {
  const f = new FunctionBuilder({ src: 'i32', dst: 'i32', e0: 'i32', e1: 'i32' });
  f.locals('i32', 'i', 'end', 'end2');
  f.locals('v128', 'x', 'xin', 'z', 't', 'q', 'xh');
  declareExpLocals(f);
  const x = f.get('x');
  f.locals('v128', 'sv', 'se', 'sp');
  pool = new ConstantPool(f);
  // The exact ops: one IEEE operation each, so bit-identical to the reference's float64 result rounded to float32
  // (relu as max(x, 0): NaN stays NaN and -0 becomes +0, as the reference).
  const exact: Partial<Record<F32MapOp, Code>> = {
    neg: [x, op.f32x4Neg],
    abs: [x, op.f32x4Abs],
    relu: fmax(x, lanes(0)),
    square: fmul(x, x),
    sqrt: [x, op.f32x4Sqrt],
    reciprocal: fdiv(lanes(1), x),
  };
  const value: Code =
    exact[opName] !== undefined
      ? exact[opName]
      : opName === 'exp'
      ? expOf(f, x)
      : opName === 'expm1'
      ? expm1Of(f)
      : opName === 'erf'
      ? erfOf(f)
      : opName === 'elu'
      ? [f.set('z', expm1Of(f)), [f.get('x'), f.get('z'), [f.get('x'), lanes(0), op.f32x4Gt], op.v128Bitselect]] // x > 0 ? x : expm1(x)
      : opName === 'sigmoid'
        ? sigmoidOf(f, x)
        : opName === 'silu'
          ? fmul(x, sigmoidOf(f, x))
          : opName === 'gelu_tanh'
            ? // x sigmoid(2u)
              fmul(x, sigmoidOf(f, fmul(lanes(2 * SQRT_2_OVER_PI), fadd(x, fmul(lanes(0.044715), fmul(x, fmul(x, x)))))))
            : geluOf(f);
  const one = (offset: number): Code => [
    f.set('x', load(add(f.get('src'), f.get('i')), offset)),
    opName === 'gelu' ? f.set('xin', f.get('x')) : [],
    store(add(f.get('dst'), f.get('i')), value, offset),
  ];
  // Two vectors an iteration: the same code twice, which TurboFan's SSA form turns into two independent chains it
  // can interleave (one polynomial chain alone left the core idle for its latency), then the odd vector out.
  const body: Code = [
    pool.prologue(),
    f.set('end', mul(f.get('e1'), i32(4))),
    f.set('end2', and(sub(f.get('end'), mul(f.get('e0'), i32(4))), i32(-32))),
    f.set('end2', add(f.get('end2'), mul(f.get('e0'), i32(4)))),
    f.forRange('i', mul(f.get('e0'), i32(4)), f.get('end2'), i32(32), [one(0), one(16)]),
    f.forRange('i', f.get('end2'), f.get('end'), i32(16), one(0)),
  ];
  pool = null;
  return { fn: f, body };
}

/**
 * The selective scan's recurrence (Gu & Dao 2023, Mamba, eq. 2a-2b with ZOH for A and Euler for B), float32 states:
 * h_t = exp(delta_t A) h_(t-1) + delta_t u_t B_t, y_t = C_t . h_t, four states per vector (N a multiple of 4).
 * Layouts: u, delta (BD, L) rows of channel (b, d); A (D, N); B and C step-major (nb, L, N); h0 (BD, N) or none;
 * y (BD, L); last (BD, N), which is also the running state. Params (u, delta, A, B, C, h0, y, last, r0, r1, D, L,
 * N, hasH0, ld): rows bd in [r0, r1), steps [0, L) of rows ld elements apart (ld >= L: the host runs a long sequence
 * in time chunks, each continuing from `last`, so that a chunk's B and C stay in cache for every channel).
 */
function selectiveScanFunction(): { fn: FunctionBuilder; body: Code } {
  const f = new FunctionBuilder({
    u: 'i32', delta: 'i32', a: 'i32', b: 'i32', c: 'i32', h0: 'i32', y: 'i32', last: 'i32', r0: 'i32', r1: 'i32', d: 'i32', l: 'i32', n: 'i32', hasH0: 'i32', ld: 'i32',
  });
  f.locals('i32', 'bd', 't', 'j', 'nBytes', 'h', 'arow', 'bc', 'row');
  f.locals('v128', 'x', 'dtv', 'duv', 'acc', 'hv');
  f.locals('f32', 'dt');
  declareExpLocals(f);
  pool = new ConstantPool(f);
  const g = (name: string) => f.get(name);
  const lane = (v: Code, k: number): Code => [v, op.f32x4ExtractLane, k];
  const loop: Code = f.forRange('bd', g('r0'), g('r1'), i32(1), [
    f.set('h', add(g('last'), mul(g('bd'), g('nBytes')))), // the state row is the output row of last
    f.set('arow', add(g('a'), mul([g('bd'), g('d'), op.i32RemU], g('nBytes')))), // A[d, :], d = bd mod D
    f.set('row', mul(g('bd'), mul(g('ld'), i32(4)))), // byte offset of row bd in (BD, ld)
    [g('hasH0'), op.if, 0x40,
      f.forRange('j', i32(0), g('nBytes'), i32(16), [vstore(add(g('h'), g('j')), vload(add(add(g('h0'), mul(g('bd'), g('nBytes'))), g('j'))))]),
    op.else,
      f.forRange('j', i32(0), g('nBytes'), i32(16), [vstore(add(g('h'), g('j')), lanes(0))]),
    op.end],
    // (b, t) rows of B and C start at ((bd div D) ld + t) N floats.
    f.set('bc', mul(mul([g('bd'), g('d'), op.i32DivU], g('ld')), g('nBytes'))),
    f.forRange('t', i32(0), g('l'), i32(1), [
      f.set('dt', f32Load(add(add(g('delta'), g('row')), mul(g('t'), i32(4))))),
      f.set('dtv', [g('dt'), op.f32x4Splat]),
      f.set('duv', [[g('dt'), f32Load(add(add(g('u'), g('row')), mul(g('t'), i32(4)))), op.f32Mul], op.f32x4Splat]),
      f.set('acc', lanes(0)),
      f.forRange('j', i32(0), g('nBytes'), i32(16), [
        f.set('x', fmul(g('dtv'), vload(add(g('arow'), g('j'))))),
        f.set('hv', fadd(fmul(expOf(f, g('x')), vload(add(g('h'), g('j')))), fmul(g('duv'), vload(add(add(g('b'), g('bc')), g('j')))))),
        vstore(add(g('h'), g('j')), g('hv')),
        f.set('acc', fadd(g('acc'), fmul(g('hv'), vload(add(add(g('c'), g('bc')), g('j')))))),
      ]),
      f32Store(add(add(g('y'), g('row')), mul(g('t'), i32(4))), [[lane(g('acc'), 0), lane(g('acc'), 1), op.f32Add], [lane(g('acc'), 2), lane(g('acc'), 3), op.f32Add], op.f32Add]),
      f.inc('bc', g('nBytes')),
    ]),
  ]);
  const body: Code = [pool.prologue(), f.set('nBytes', mul(g('n'), i32(4))), loop];
  pool = null;
  return { fn: f, body };
}

/** Softmax of rows [r0, r1) of `cols` elements (cols a multiple of 4), src to dst. */
function softmaxFunction(): { fn: FunctionBuilder; body: Code } {
  const f = new FunctionBuilder({ src: 'i32', dst: 'i32', r0: 'i32', r1: 'i32', cols: 'i32' });
  f.locals('i32', 'r', 'i', 'rowBytes', 'in', 'out');
  f.locals('v128', 'm', 's', 'e', 'inv');
  f.locals('f32', 'mx', 'sum');
  declareExpLocals(f);
  pool = new ConstantPool(f);
  const hmax = (v: Code): Code => [[lane(v, 0), lane(v, 1), op.f32Max], [lane(v, 2), lane(v, 3), op.f32Max], op.f32Max];
  const hsum = (v: Code): Code => [[lane(v, 0), lane(v, 1), op.f32Add], [lane(v, 2), lane(v, 3), op.f32Add], op.f32Add];
  const loops: Code = [
    f.forRange('r', f.get('r0'), f.get('r1'), i32(1), [
      f.set('in', add(f.get('src'), mul(f.get('r'), f.get('rowBytes')))),
      f.set('out', add(f.get('dst'), mul(f.get('r'), f.get('rowBytes')))),
      f.set('m', lanes(-Infinity)),
      // pmax is one instruction; it may drop a NaN from the max, but a NaN input still turns its exp, the sum and
      // so the whole row into NaN, as the reference's NaN-propagating max does.
      f.forRange('i', i32(0), f.get('rowBytes'), i32(16), [f.set('m', [load(add(f.get('in'), f.get('i'))), f.get('m'), op.f32x4Max])]),
      f.set('mx', hmax(f.get('m'))),
      f.set('m', [f.get('mx'), op.f32x4Splat]),
      f.set('s', lanes(0)),
      f.forRange('i', i32(0), f.get('rowBytes'), i32(16), [
        f.set('e', expOf(f, fsub(load(add(f.get('in'), f.get('i'))), f.get('m')), null, true)),
        store(add(f.get('out'), f.get('i')), f.get('e')),
        f.set('s', fadd(f.get('s'), f.get('e'))),
      ]),
      f.set('sum', hsum(f.get('s'))),
      f.set('inv', [[f32(1), f.get('sum'), op.f32Div], op.f32x4Splat]),
      f.forRange('i', i32(0), f.get('rowBytes'), i32(16), [
        store(add(f.get('out'), f.get('i')), fmul(load(add(f.get('out'), f.get('i'))), f.get('inv'))),
      ]),
    ]),
  ];
  const body: Code = [pool.prologue(), f.set('rowBytes', mul(f.get('cols'), i32(4))), loops];
  pool = null;
  return { fn: f, body };
}

/**
 * The module's bytes, on an imported memory env.memory: one export per map op (named as the op), `softmax`, and
 * `binary_<op>` per binary op and `where` (f32-binary-functions.ts), `norm` (f32-norm-functions.ts) and
 * `depthwise` (f32-depthwise-functions.ts), `scan` (f32-scan-functions.ts) and `reduce` (f32-reduce-functions.ts).
 */
export function buildF32MathModule(maximumPages: number, relaxedSimd = false, sharedMemory = false): Uint8Array<ArrayBuffer> {
  fused = relaxedSimd;
  const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1, maximumPages, shared: sharedMemory });
  for (const name of F32_MAP_OPS) {
    const { fn, body } = mapFunction(name);
    m.addFunction(name, fn, body);
  }
  const sm = softmaxFunction();
  m.addFunction('softmax', sm.fn, sm.body);
  for (const name of F32_BINARY_OPS) {
    const { fn, body } = binaryFunction(name);
    m.addFunction(`binary_${name}`, fn, body);
  }
  const norm = normFunction();
  m.addFunction('norm', norm.fn, norm.body);
  const ss = selectiveScanFunction();
  m.addFunction('selectiveScan', ss.fn, ss.body);
  const where = whereFunction();
  m.addFunction('where', where.fn, where.body);
  const dw = depthwiseFunction();
  m.addFunction('depthwise', dw.fn, dw.body);
  const scan = scanFunction();
  m.addFunction('scan', scan.fn, scan.body);
  const red = reduceFunction();
  m.addFunction('reduce', red.fn, red.body);
  fused = false;
  return m.encode();
}
