/**
 * Efficient attention next to the softmax baseline, on one random input: how far each approximation lands from
 * exact softmax attention, and causal linear attention (Katharopoulos et al. 2020) run in parallel and as an RNN,
 * one token at a time, giving the same outputs.
 */
import { LinearAttention, createAttentionCore, type AttentionConfig } from '@formers/attention-linear';
import { Generator, cat, noGrad, randn, type Tensor } from '@formers/tensor-core';

export interface AttentionTourResult {
  readonly seqLen: number;
  readonly numHeads: number;
  readonly headDim: number;
  /** ||out - softmax|| / ||softmax|| for each variant. */
  readonly variants: ReadonlyArray<{ name: string; relErrorVsSoftmax: number }>;
  /** Max |parallel - recurrent| of causal linear attention. */
  readonly causalModeGap: number;
}

const VARIANTS: ReadonlyArray<{ name: string; config: AttentionConfig }> = [
  { name: 'softmax, chunked (online)', config: { type: 'softmax-chunked', keyChunkSize: 16 } },
  { name: 'Performer, 16 features', config: { type: 'performer', numFeatures: 16 } },
  { name: 'Performer, 256 features', config: { type: 'performer', numFeatures: 256 } },
  { name: 'linear (elu + 1)', config: { type: 'linear' } },
];

export function attentionTour(seed = 0): AttentionTourResult {
  const [B, H, N, Dh] = [1, 2, 64, 16];
  const gen = new Generator(seed);
  return noGrad(() => {
    // Small logits keep softmax smooth, the regime where kernel approximations are meant to work.
    const q = randn([B, H, N, Dh], { generator: gen }).mul(0.5); // (B, H, N, Dh)
    const k = randn([B, H, N, Dh], { generator: gen }).mul(0.5); // (B, H, N, Dh)
    const v = randn([B, H, N, Dh], { generator: gen }); // (B, H, N, Dh)
    const dims = { numHeads: H, headDim: Dh, seqLen: N, generator: new Generator(seed + 1) };
    const exact = createAttentionCore({ type: 'softmax' }, dims).forward(q, k, v);
    const norm = (t: Tensor) => Math.sqrt(t.square().sum().item());
    const variants = VARIANTS.map(({ name, config }) => ({
      name,
      relErrorVsSoftmax: norm(createAttentionCore(config, dims).forward(q, k, v).sub(exact)) / norm(exact),
    }));
    const linear = new LinearAttention();
    const parallel = linear.forward(q, k, v, { causal: true }); // (B, H, N, Dh)
    let state = null;
    const outs: Tensor[] = [];
    for (let t = 0; t < N; t++) {
      const r = linear.step(q.narrow(2, t, 1), k.narrow(2, t, 1), v.narrow(2, t, 1), state); // (B, H, 1, Dh)
      outs.push(r.out);
      state = r.state;
    }
    return { seqLen: N, numHeads: H, headDim: Dh, variants, causalModeGap: cat(outs, 2).sub(parallel).abs().max().item() };
  });
}
