/**
 * Complex numbers as pairs of real tensors (`re`, `im`) of one shape.
 *
 * Why pairs: no backend here has a complex dtype (gpu.js and WebGPU are float32 only), and composing complex
 * arithmetic from real ops makes every complex function run on every backend and differentiate for free through
 * the real autograd. A real-valued loss of a ComplexTensor has gradients dL/dre and dL/dim, which are exactly the
 * real and imaginary parts of the conjugate Wirtinger gradient torch reports (as re + i im) for complex leaves.
 */
import { cat, stack } from './ops/join.js';
import { add, atan2, cos, div, exp, mul, neg, sin, sqrt, square, sub, sameBackend } from './ops/elementwise.js';
import { matmul } from './ops/matmul.js';
import { sum } from './ops/reduce.js';
import { fmt, shapesEqual } from './shape.js';
import { Tensor } from './tensor.js';
import { zerosLike } from './creation.js';

export type ComplexLike = ComplexTensor | Tensor | number;

export class ComplexTensor {
  constructor(
    readonly re: Tensor,
    readonly im: Tensor,
  ) {
    if (!(re instanceof Tensor) || !(im instanceof Tensor)) throw new Error('ComplexTensor: expected re and im to be Tensors');
    if (!shapesEqual(re.shape, im.shape)) {
      throw new Error(`ComplexTensor: expected re and im of one shape; got re ${fmt(re.shape)}, im ${fmt(im.shape)}`);
    }
    if (re.dtype !== im.dtype) throw new Error(`ComplexTensor: expected re and im of one dtype; got ${re.dtype} and ${im.dtype}`);
    sameBackend('ComplexTensor', re, im);
  }

  get shape(): readonly number[] {
    return this.re.shape;
  }
  get ndim(): number {
    return this.re.ndim;
  }
  get dtype() {
    return this.re.dtype;
  }

  add(other: ComplexLike): ComplexTensor {
    const o = toComplex(other, this);
    return new ComplexTensor(add(this.re, o.re), add(this.im, o.im));
  }
  sub(other: ComplexLike): ComplexTensor {
    const o = toComplex(other, this);
    return new ComplexTensor(sub(this.re, o.re), sub(this.im, o.im));
  }
  /** (a + ib)(c + id) = (ac - bd) + i(ad + bc). */
  mul(other: ComplexLike): ComplexTensor {
    if (typeof other === 'number' || other instanceof Tensor) return this.scale(other);
    return new ComplexTensor(sub(mul(this.re, other.re), mul(this.im, other.im)), add(mul(this.re, other.im), mul(this.im, other.re)));
  }
  /** (a + ib) / (c + id) = ((ac + bd) + i(bc - ad)) / (c^2 + d^2). */
  div(other: ComplexLike): ComplexTensor {
    if (typeof other === 'number' || other instanceof Tensor) return new ComplexTensor(div(this.re, other), div(this.im, other));
    const den = add(square(other.re), square(other.im));
    return new ComplexTensor(
      div(add(mul(this.re, other.re), mul(this.im, other.im)), den),
      div(sub(mul(this.im, other.re), mul(this.re, other.im)), den),
    );
  }
  /** Multiply by a real tensor or number. */
  scale(s: Tensor | number): ComplexTensor {
    return new ComplexTensor(mul(this.re, s), mul(this.im, s));
  }
  neg(): ComplexTensor {
    return new ComplexTensor(neg(this.re), neg(this.im));
  }
  conj(): ComplexTensor {
    return new ComplexTensor(this.re, neg(this.im));
  }
  /** e^(a + ib) = e^a (cos b + i sin b). */
  exp(): ComplexTensor {
    const m = exp(this.re);
    return new ComplexTensor(mul(m, cos(this.im)), mul(m, sin(this.im)));
  }
  /** |z| = sqrt(a^2 + b^2) (gradient undefined at 0, as for any norm). */
  abs(): Tensor {
    return sqrt(this.absSquare());
  }
  /** |z|^2, smooth everywhere. */
  absSquare(): Tensor {
    return add(square(this.re), square(this.im));
  }
  /** The argument atan2(b, a). */
  angle(): Tensor {
    return atan2(this.im, this.re);
  }
  /** Complex matrix product with torch.matmul broadcasting: (A + iB)(C + iD) = (AC - BD) + i(AD + BC). */
  matmul(other: ComplexTensor | Tensor): ComplexTensor {
    if (other instanceof Tensor) return new ComplexTensor(matmul(this.re, other), matmul(this.im, other));
    return new ComplexTensor(
      sub(matmul(this.re, other.re), matmul(this.im, other.im)),
      add(matmul(this.re, other.im), matmul(this.im, other.re)),
    );
  }
  /** Sum over dims, like Tensor.sum. */
  sum(dim?: number | number[], keepdim = false): ComplexTensor {
    return new ComplexTensor(sum(this.re, dim, keepdim), sum(this.im, dim, keepdim));
  }
  /** Apply the same real view/shape op to both parts (reshape, slice, permute, ...). */
  map(f: (t: Tensor) => Tensor): ComplexTensor {
    return new ComplexTensor(f(this.re), f(this.im));
  }
  /** Real and imaginary parts stacked along a new last dim (torch.view_as_real). */
  toReal(): Tensor {
    return stack([this.re, this.im], -1);
  }
  dispose(): void {
    this.re.dispose();
    this.im.dispose();
  }
}

function toComplex(x: ComplexLike, like: ComplexTensor): ComplexTensor {
  if (x instanceof ComplexTensor) return x;
  const re = typeof x === 'number' ? add(zerosLike(like.re), x) : x;
  return new ComplexTensor(re, zerosLike(re));
}

/** A complex tensor from real and imaginary parts (imaginary zero when omitted). */
export function complex(re: Tensor, im?: Tensor): ComplexTensor {
  return new ComplexTensor(re, im ?? zerosLike(re));
}

/** r e^(i theta). */
export function polar(abs: Tensor, angle: Tensor): ComplexTensor {
  return new ComplexTensor(mul(abs, cos(angle)), mul(abs, sin(angle)));
}

/** The inverse of `toReal`: a (..., 2) real tensor as a complex one (torch.view_as_complex). */
export function viewAsComplex(x: Tensor): ComplexTensor {
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== 2) throw new Error(`viewAsComplex: expected a last dim of size 2; got ${fmt(x.shape)}`);
  return new ComplexTensor(x.select(-1, 0), x.select(-1, 1));
}

/** Concatenate complex tensors along a dim. */
export function complexCat(xs: readonly ComplexTensor[], dim = 0): ComplexTensor {
  return new ComplexTensor(cat(xs.map((x) => x.re), dim), cat(xs.map((x) => x.im), dim));
}
