/** A tiny RoPE used by tests and conformance ops (no vitest imports, so the conformance CLI can load it). */
import { cat, tensor, type Tensor } from '@formers/tensor-core';

/** A minimal rotary transform for tests (RoFormer, half-split layout): rotates pairs (x_c, x_{c + Dh/2}). */
export function testRope(base = 100): (q: Tensor, k: Tensor, o: { offset?: number }) => [Tensor, Tensor] {
  const rot = (x: Tensor, offset: number): Tensor => {
    const [, , N, Dh] = x.shape;
    const half = Dh / 2;
    const cosv: number[] = [];
    const sinv: number[] = [];
    for (let n = 0; n < N; n++) for (let c = 0; c < Dh; c++) {
      const ang = (n + offset) * Math.pow(base, -(2 * (c % half)) / Dh);
      cosv.push(Math.cos(ang));
      sinv.push(Math.sin(ang));
    }
    const opt = { shape: [1, 1, N, Dh], dtype: x.dtype, backend: x.backend };
    const cos = tensor(cosv, opt);
    const sin = tensor(sinv, opt);
    const x1 = x.narrow(3, 0, half);
    const x2 = x.narrow(3, half, half);
    const rotated = cat([x2.neg(), x1], 3);
    return x.mul(cos).add(rotated.mul(sin));
  };
  return (q, k, o) => {
    const off = o.offset ?? 0;
    const Nk = k.shape[2];
    const Nq = q.shape[2];
    return [rot(q, off + Nk - Nq), rot(k, off)];
  };
}
