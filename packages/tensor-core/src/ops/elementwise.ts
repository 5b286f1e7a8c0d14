/**
 * Elementwise ops: unary math and activations, binary arithmetic with PyTorch broadcasting and type promotion
 * (int32 < float32 < float64), comparisons, where/maskedFill, clamp, casts and moves between backends.
 *
 * Comparisons return 0/1 in the promoted dtype of their inputs (formers has no bool dtype); any nonzero value
 * counts as true where a mask is expected.
 */
import type { BinaryOp, DType, UnaryOp } from '@formers/gpu-kernels';
import { record1 } from '../autograd.js';
import { fromHost } from '../creation.js';
import { noGrad } from '../grad-mode.js';
import { broadcastArg, denseHandle, isFloat, isPromise, mapOut, promoteTypes, run } from '../kernel.js';
import { broadcastAll, broadcastShapes, fmt } from '../shape.js';
import { resolveBackend, Tensor, type BackendLike, type TensorLike } from '../tensor.js';
import { sumToShape } from './reduce.js';

/** Throw unless every tensor is on the same backend. */
export function sameBackend(op: string, ...ts: Tensor[]): void {
  const b = ts[0].backend;
  for (const t of ts) {
    if (t.backend !== b) {
      const same = t.backend.name === b.name ? ' (two instances of the same kind)' : '';
      throw new Error(
        `${op}: expected all tensors on one backend; got "${b.name}" and "${t.backend.name}"${same} ` +
          '(move one with .to(backendName))',
      );
    }
  }
}

/** Throw unless `x` has a float dtype. */
export function requireFloat(op: string, x: Tensor, arg = 'input'): void {
  if (!isFloat(x.dtype)) throw new Error(`${op}: expected ${arg} to have a float dtype (float32 or float64); got ${x.dtype}`);
}

/** A number as a 0-d tensor next to `like` (int32 stays int32 for integer values, else float32). */
export function asTensor(x: TensorLike, like: Tensor): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x !== 'number') throw new Error(`expected a Tensor or a number; got ${typeof x}`);
  const dtype: DType = like.dtype === 'int32' && !Number.isInteger(x) ? 'float32' : like.dtype;
  const arr = dtype === 'float64' ? new Float64Array([x]) : dtype === 'int32' ? new Int32Array([x]) : new Float32Array([x]);
  return fromHost('scalar', arr, [], { dtype, backend: like.backend });
}

/** A tensor like `x` filled with `value` (no grad). @internal */
export function fullLikeScalar(x: Tensor, value: number): Tensor {
  const n = x.numel;
  const arr = x.dtype === 'float64' ? new Float64Array(n) : x.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  arr.fill(value);
  return fromHost('full', arr, x.shape, { dtype: x.dtype, backend: x.backend });
}

// ---- casts and moves ---------------------------------------------------------------------------------------------

/** A copy in another dtype (the same tensor when it already has it). Differentiable between float dtypes. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  if (!x.backend.dtypes.includes(dtype)) {
    throw new Error(`cast: backend "${x.backend.name}" does not support dtype ${dtype}; it computes in ${x.backend.dtypes.join(', ')}`);
  }
  const out = unaryRaw('identity', x, dtype);
  if (!isFloat(dtype)) return out;
  return record1('ToCopyBackward', [x], out, (g) => [isFloat(x.dtype) ? cast(g, x.dtype) : null], []);
}

/** Cast to a dtype, or move to another backend (differentiable: the gradient moves back). */
export function to(x: Tensor, target: DType | BackendLike): Tensor {
  if (target === 'float32' || target === 'float64' || target === 'int32') return cast(x, target);
  const dst = resolveBackend(target);
  if (dst === x.backend) return x;
  if (!dst.dtypes.includes(x.dtype)) {
    throw new Error(`to: backend "${dst.name}" does not support dtype ${x.dtype}; cast first (it computes in ${dst.dtypes.join(', ')})`);
  }
  const src = x.backend;
  const n = x.numel;
  const dense = denseHandle(x); // a copy of a strided view stays alive until it has been read
  const release = (h: unknown) => {
    if (dense.temp) src.dispose(h);
  };
  const data = src.sync && !isPromise(dense.data)
    ? (() => {
        const host = src.readSync(dense.data, x.dtype, n);
        release(dense.data);
        return dst.upload(host, x.dtype);
      })()
    : Promise.resolve(dense.data)
        .then(async (h) => {
          const host = await src.read(h, x.dtype, n);
          release(h);
          return host;
        })
        .then((host) => dst.upload(host, x.dtype));
  const out = Tensor.fromData(dst, x.dtype, x.shape, data);
  return record1('ToBackendBackward', [x], out, (g) => [to(g, src)], []);
}

// ---- raw kernels (no autograd) -----------------------------------------------------------------------------------

/** The unary kernel over `x`'s strided view. @internal */
export function unaryRaw(op: UnaryOp, x: Tensor, outDtype: DType = x.dtype): Tensor {
  const b = x.backend;
  const data = run(b, [{ tensor: x, as: 'view' }], ([v]) => b.unary(op, v as never, outDtype));
  return Tensor.fromData(b, outDtype, x.shape, data);
}

/** The binary kernel with broadcasting; `a` and `b` must share a dtype. @internal */
export function binaryRaw(op: BinaryOp, a: Tensor, b: Tensor, outDtype: DType = a.dtype): Tensor {
  sameBackend(op, a, b);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const be = a.backend;
  const data = run(be, [broadcastArg(a, shape), broadcastArg(b, shape)], ([va, vb]) =>
    be.binary(op, va as never, vb as never, shape, outDtype),
  );
  return Tensor.fromData(be, outDtype, shape, data);
}

/** Promote two operands to a common dtype (differentiably). */
function promote(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (!(a instanceof Tensor) && !(b instanceof Tensor)) throw new Error(`${op}: expected at least one Tensor operand`);
  const ta = a instanceof Tensor ? a : asTensor(a, b as Tensor);
  const tb = b instanceof Tensor ? b : asTensor(b, ta);
  sameBackend(op, ta, tb);
  const d = promoteTypes(ta.dtype, tb.dtype);
  return [cast(ta, d), cast(tb, d)];
}

// ---- unary ops ---------------------------------------------------------------------------------------------------

type UnaryGrad = (g: Tensor, x: Tensor, y: Tensor) => Tensor;

function unaryOp(name: string, op: UnaryOp, x: Tensor, grad: UnaryGrad | null, savesOutput = false): Tensor {
  if (!(x instanceof Tensor)) throw new Error(`${op}: expected a Tensor; got ${typeof x}`);
  if (grad && x.dtype === 'int32' && op !== 'neg' && op !== 'abs' && op !== 'square' && op !== 'relu') {
    // torch promotes integer inputs of float functions (exp, sin, ...) to the default float dtype.
    x = cast(x, 'float32');
  }
  const y = unaryRaw(op, x);
  if (!grad) return y;
  return record1(name, [x], y, (g) => [grad(g, x, y)], savesOutput ? [x, y] : [x]);
}

export const neg = (x: Tensor): Tensor => unaryOp('NegBackward', 'neg', x, (g) => neg(g));
export const abs = (x: Tensor): Tensor => unaryOp('AbsBackward', 'abs', x, (g, x) => mul(g, sign(x)));
/** Sign (zero gradient, as torch). */
export const sign = (x: Tensor): Tensor => unaryRaw('sign', x);
export const exp = (x: Tensor): Tensor => unaryOp('ExpBackward', 'exp', x, (g, _x, y) => mul(g, y), true);
export const expm1 = (x: Tensor): Tensor => unaryOp('Expm1Backward', 'expm1', x, (g, _x, y) => mul(g, add(y, 1)), true);
export const log = (x: Tensor): Tensor => unaryOp('LogBackward', 'log', x, (g, x) => div(g, x));
export const log1p = (x: Tensor): Tensor => unaryOp('Log1pBackward', 'log1p', x, (g, x) => div(g, add(x, 1)));
export const sqrt = (x: Tensor): Tensor => unaryOp('SqrtBackward', 'sqrt', x, (g, _x, y) => div(g, mul(y, 2)), true);
export const rsqrt = (x: Tensor): Tensor =>
  unaryOp('RsqrtBackward', 'rsqrt', x, (g, _x, y) => mul(g, mul(pow(y, 3), -0.5)), true);
export const reciprocal = (x: Tensor): Tensor =>
  unaryOp('ReciprocalBackward', 'reciprocal', x, (g, _x, y) => neg(mul(g, square(y))), true);
export const square = (x: Tensor): Tensor => unaryOp('PowBackward', 'square', x, (g, x) => mul(g, mul(x, 2)));
export const sin = (x: Tensor): Tensor => unaryOp('SinBackward', 'sin', x, (g, x) => mul(g, cos(x)));
export const cos = (x: Tensor): Tensor => unaryOp('CosBackward', 'cos', x, (g, x) => neg(mul(g, sin(x))));
export const tanh = (x: Tensor): Tensor =>
  unaryOp('TanhBackward', 'tanh', x, (g, _x, y) => mul(g, rsub(1, square(y))), true);
export const sigmoid = (x: Tensor): Tensor =>
  unaryOp('SigmoidBackward', 'sigmoid', x, (g, _x, y) => mul(g, mul(y, rsub(1, y))), true);
export const erf = (x: Tensor): Tensor =>
  unaryOp('ErfBackward', 'erf', x, (g, x) => mul(g, mul(exp(neg(square(x))), 2 / Math.sqrt(Math.PI))));
export const relu = (x: Tensor): Tensor => unaryOp('ReluBackward', 'relu', x, (g, _x, y) => mul(g, gt(y, 0)), true);
export const silu = (x: Tensor): Tensor =>
  unaryOp('SiluBackward', 'silu', x, (g, x) => {
    const s = sigmoid(x);
    return mul(g, mul(s, add(mul(x, rsub(1, s)), 1))); // d/dx x s(x) = s (1 + x (1 - s))
  });
/** Rounding ops: zero gradient, as torch. */
export const floor = (x: Tensor): Tensor => unaryRaw('floor', x);
export const ceil = (x: Tensor): Tensor => unaryRaw('ceil', x);
export const round = (x: Tensor): Tensor => unaryRaw('round', x);

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** GELU (Hendrycks & Gimpel 2016): exact x Phi(x), or the tanh approximation with `approximate: 'tanh'`. */
export function gelu(x: Tensor, opts: { approximate?: 'none' | 'tanh' } = {}): Tensor {
  const approx = opts.approximate ?? 'none';
  if (approx !== 'none' && approx !== 'tanh') {
    throw new Error(`gelu: expected opts.approximate 'none' or 'tanh'; got ${String(approx)}`);
  }
  if (approx === 'none') {
    return unaryOp('GeluBackward', 'gelu', x, (g, x) => {
      // d/dx x Phi(x) = Phi(x) + x phi(x)
      const cdf = mul(add(erf(mul(x, Math.SQRT1_2)), 1), 0.5);
      const pdf = mul(exp(mul(square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
      return mul(g, add(cdf, mul(x, pdf)));
    });
  }
  return unaryOp('GeluBackward', 'gelu_tanh', x, (g, x) => {
    const x2 = square(x);
    const t = tanh(mul(mul(x, add(mul(x2, 0.044715), 1)), SQRT_2_OVER_PI));
    const du = mul(add(mul(x2, 3 * 0.044715), 1), SQRT_2_OVER_PI);
    const d = add(mul(add(t, 1), 0.5), mul(mul(mul(x, rsub(1, square(t))), du), 0.5));
    return mul(g, d);
  });
}

/** softplus(x) = log(1 + exp(beta x)) / beta, linear where beta x > threshold (torch defaults 1 and 20). */
export function softplus(x: Tensor, opts: { beta?: number; threshold?: number } = {}): Tensor {
  const beta = opts.beta ?? 1;
  const threshold = opts.threshold ?? 20;
  const bx = beta === 1 ? x : mul(x, beta);
  const soft = unaryOp('SoftplusBackward', 'softplus', bx, (g, z) => mul(g, sigmoid(z)));
  const y = beta === 1 ? soft : div(soft, beta);
  return where(gt(bx, threshold), x, y);
}

/** ELU: x for x > 0, alpha (exp(x) - 1) otherwise. */
export function elu(x: Tensor, opts: { alpha?: number } = {}): Tensor {
  const alpha = opts.alpha ?? 1;
  if (alpha === 1) {
    // One kernel; d/dx = 1 above 0 and e^x = y + 1 below, which is min(y + 1, 1) everywhere (1 at 0, as torch).
    return unaryOp('EluBackward', 'elu', x, (g, _x, y) => mul(g, minimum(add(y, 1), 1)), true);
  }
  return where(gt(x, 0), x, mul(expm1(minimum(x, 0)), alpha));
}

/** Leaky ReLU: x for x >= 0, slope x otherwise. */
export function leakyRelu(x: Tensor, opts: { negativeSlope?: number } = {}): Tensor {
  return where(gt(x, 0), x, mul(x, opts.negativeSlope ?? 0.01));
}

/** log(sigmoid(x)) = -softplus(-x), stable for large |x|. */
export function logSigmoid(x: Tensor): Tensor {
  return neg(softplus(neg(x)));
}

// ---- binary ops --------------------------------------------------------------------------------------------------

/** a + alpha * b, broadcast. */
export function add(a: TensorLike, b: TensorLike, opts: { alpha?: number } = {}): Tensor {
  let [ta, tb] = promote('add', a, b);
  if (opts.alpha !== undefined && opts.alpha !== 1) tb = mul(tb, opts.alpha);
  const y = binaryRaw('add', ta, tb);
  return record1('AddBackward', [ta, tb], y, (g, n) => [n[0] ? sumToShape(g, ta.shape) : null, n[1] ? sumToShape(g, tb.shape) : null], []);
}

/** a - alpha * b, broadcast. */
export function sub(a: TensorLike, b: TensorLike, opts: { alpha?: number } = {}): Tensor {
  let [ta, tb] = promote('sub', a, b);
  if (opts.alpha !== undefined && opts.alpha !== 1) tb = mul(tb, opts.alpha);
  const y = binaryRaw('sub', ta, tb);
  return record1('SubBackward', [ta, tb], y, (g, n) => [n[0] ? sumToShape(g, ta.shape) : null, n[1] ? sumToShape(neg(g), tb.shape) : null], []);
}

/** b - a, for scalar-first expressions like 1 - x. */
export function rsub(a: TensorLike, b: TensorLike): Tensor {
  return sub(a, b);
}

export function mul(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = promote('mul', a, b);
  const y = binaryRaw('mul', ta, tb);
  return record1('MulBackward', [ta, tb], y, (g, n) => [
    n[0] ? sumToShape(mul(g, tb), ta.shape) : null,
    n[1] ? sumToShape(mul(g, ta), tb.shape) : null,
  ]);
}

/** True division (int32 operands give float32, as torch). */
export function div(a: TensorLike, b: TensorLike): Tensor {
  let [ta, tb] = promote('div', a, b);
  if (ta.dtype === 'int32') {
    ta = cast(ta, 'float32');
    tb = cast(tb, 'float32');
  }
  const y = binaryRaw('div', ta, tb);
  return record1('DivBackward', [ta, tb], y, (g, n) => [
    n[0] ? sumToShape(div(g, tb), ta.shape) : null,
    n[1] ? sumToShape(neg(div(mul(g, y), tb)), tb.shape) : null,
  ], [ta, tb, y]);
}

/** a ** b, broadcast. The gradient for b is g * a^b * log(a), taken as 0 where a = 0 and b >= 0 (torch). */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = promote('pow', a, b);
  const y = binaryRaw('pow', ta, tb);
  return record1('PowBackward', [ta, tb], y, (g, n) => {
    const ga = n[0]
      ? sumToShape(where(eq(tb, 0), 0, mul(g, mul(tb, pow(ta, sub(tb, 1))))), ta.shape)
      : null;
    const gb = n[1]
      ? sumToShape(where(logicalAnd(eq(ta, 0), ge(tb, 0)), 0, mul(g, mul(y, log(ta)))), tb.shape)
      : null;
    return [ga, gb];
  }, [ta, tb, y]);
}

/** Elementwise maximum; at ties the gradient is split evenly (torch). */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return extremum('maximum', a, b);
}
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return extremum('minimum', a, b);
}

function extremum(op: 'maximum' | 'minimum', a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = promote(op, a, b);
  const y = binaryRaw(op, ta, tb);
  return record1(op === 'maximum' ? 'MaximumBackward' : 'MinimumBackward', [ta, tb], y, (g, n) => {
    const wins = op === 'maximum' ? gt(ta, tb) : lt(ta, tb);
    const wa = add(wins, mul(eq(ta, tb), 0.5)); // 1 where a wins, 1/2 at ties, 0 otherwise
    return [n[0] ? sumToShape(mul(g, wa), ta.shape) : null, n[1] ? sumToShape(mul(g, rsub(1, wa)), tb.shape) : null];
  });
}

/** atan2(a, b), the angle of (b, a). */
export function atan2(a: TensorLike, b: TensorLike): Tensor {
  let [ta, tb] = promote('atan2', a, b);
  if (ta.dtype === 'int32') {
    ta = cast(ta, 'float32');
    tb = cast(tb, 'float32');
  }
  const y = binaryRaw('atan2', ta, tb);
  return record1('Atan2Backward', [ta, tb], y, (g, n) => {
    const r2 = add(square(ta), square(tb));
    return [n[0] ? sumToShape(div(mul(g, tb), r2), ta.shape) : null, n[1] ? sumToShape(neg(div(mul(g, ta), r2)), tb.shape) : null];
  });
}

function compare(op: BinaryOp, a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = noGrad(() => promote(op, a, b));
  return binaryRaw(op, ta, tb);
}
export const eq = (a: TensorLike, b: TensorLike): Tensor => compare('eq', a, b);
export const ne = (a: TensorLike, b: TensorLike): Tensor => compare('ne', a, b);
export const lt = (a: TensorLike, b: TensorLike): Tensor => compare('lt', a, b);
export const le = (a: TensorLike, b: TensorLike): Tensor => compare('le', a, b);
export const gt = (a: TensorLike, b: TensorLike): Tensor => compare('gt', a, b);
export const ge = (a: TensorLike, b: TensorLike): Tensor => compare('ge', a, b);

/** 1 where both are nonzero (in a's dtype). */
export function logicalAnd(a: Tensor, b: Tensor): Tensor {
  return noGrad(() => mul(ne(a, 0), ne(b, 0)));
}
/** 1 where either is nonzero. */
export function logicalOr(a: Tensor, b: Tensor): Tensor {
  return noGrad(() => ne(add(ne(a, 0), ne(b, 0)), 0));
}
/** 1 where x is zero. */
export function logicalNot(x: Tensor): Tensor {
  return eq(x, 0);
}

// ---- selection ---------------------------------------------------------------------------------------------------

/** `cond ? a : b` elementwise with broadcasting over all three; any nonzero cond counts as true. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  if (!(cond instanceof Tensor)) throw new Error(`where: expected cond to be a Tensor; got ${typeof cond}`);
  const [ta, tb] = promote('where', a instanceof Tensor || b instanceof Tensor ? a : asTensor(a, cond), b);
  sameBackend('where', cond, ta, tb);
  const shape = broadcastAll('where', [cond.shape, ta.shape, tb.shape]);
  const be = cond.backend;
  const data = run(be, [broadcastArg(cond, shape), broadcastArg(ta, shape), broadcastArg(tb, shape)], ([c, va, vb]) =>
    be.where(c as never, va as never, vb as never, shape, ta.dtype),
  );
  const y = Tensor.fromData(be, ta.dtype, shape, data);
  return record1('WhereBackward', [ta, tb], y, (g, n) => [
    n[0] ? sumToShape(where(cond, g, 0), ta.shape) : null,
    n[1] ? sumToShape(where(cond, 0, g), tb.shape) : null,
  ], []);
}

/** `value` where `mask` is nonzero, `x` elsewhere; `mask` broadcasts to x's shape. */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  const shape = broadcastShapes('maskedFill', x.shape, mask.shape);
  if (shape.length !== x.ndim || shape.some((d, i) => d !== x.shape[i])) {
    throw new Error(`maskedFill: expected mask ${fmt(mask.shape)} to broadcast to x's shape ${fmt(x.shape)}`);
  }
  return where(mask, asTensor(value, x), x);
}

/** Clamp into [min, max] (either may be omitted); the gradient passes where min <= x <= max, as torch. */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  const lo = min ?? null;
  const hi = max ?? null;
  if (lo === null && hi === null) throw new Error('clamp: expected at least one of min and max');
  const y = noGrad(() => {
    let r = x;
    if (lo !== null) r = binaryRaw('maximum', r, asTensor(lo, r));
    if (hi !== null) r = binaryRaw('minimum', r, asTensor(hi, r));
    return r;
  });
  return record1('ClampBackward', [x], y, (g) => {
    let m = lo !== null ? ge(x, lo) : null;
    if (hi !== null) m = m ? mul(m, le(x, hi)) : le(x, hi);
    return [mul(g, m!)];
  });
}
