/**
 * RoPE (Su et al. 2021, RoFormer) in one table: the score between a rotated query at position m and a rotated
 * key at position n depends only on m - n, which is the property that makes it a relative encoding.
 */
import { RotaryEmbedding } from '@formers/position-encodings';
import { Generator, noGrad, randn } from '@formers/tensor-core';

export interface RopeRow {
  readonly m: number;
  readonly n: number;
  readonly score: number;
}

/** Scores <R_m q, R_n k> for pairs with the same offset m - n = `offset`, at several absolute positions. */
export function ropeTour(opts: { dim?: number; offset?: number; seed?: number } = {}): RopeRow[] {
  const dim = opts.dim ?? 16;
  const offset = opts.offset ?? 3;
  const gen = new Generator(opts.seed ?? 0);
  const rope = new RotaryEmbedding({ dim });
  const q = randn([1, dim], { generator: gen }); // (T=1, Dh)
  const k = randn([1, dim], { generator: gen }); // (T=1, Dh)
  return noGrad(() =>
    [0, 5, 17, 40].map((n) => {
      const m = n + offset;
      const qm = rope.rotate(q, { offset: m }); // (1, Dh)
      const kn = rope.rotate(k, { offset: n }); // (1, Dh)
      return { m, n, score: qm.mul(kn).sum().item() };
    }),
  );
}
