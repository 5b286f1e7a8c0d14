/** Conformance ops of @formers/attention-linear (cases written by tooling/reference/attention_linear.py). */
import { registerConformanceOp } from '../../../tooling/src/conformance/registry.js';
import { functionalCall, type Tensor } from '@formers/tensor-core';
import {
  ChunkedSoftmaxAttention,
  DiagAttention,
  FLASH,
  GAU,
  LinearAttention,
  LinformerAttention,
  MultiheadAttention,
  NormAttention,
  PerformerAttention,
  SoftmaxAttention,
  SparseAttention,
  type CausalForm,
  type FeatureMapName,
  type SparsePattern,
} from '@formers/attention-linear';
import { testRope } from './test-rope.js';

const source = { source: '@formers/attention-linear' };
type Cfg = Record<string, unknown>;

const callOpts = (i: Record<string, Tensor>, c: Cfg) => ({
  causal: (c.causal as boolean | undefined) ?? false,
  keyPaddingMask: i.key_padding_mask,
  bias: i.bias,
});

registerConformanceOp('attention_softmax', (i, _p, c) => ({ out: new SoftmaxAttention().call(i.q, i.k, i.v, callOpts(i, c)) }), source);

registerConformanceOp('attention_softmax_chunked', (i, _p, c) => ({
  out: new ChunkedSoftmaxAttention({ queryChunkSize: c.query_chunk_size as number, keyChunkSize: c.key_chunk_size as number }).call(i.q, i.k, i.v, callOpts(i, c)),
}), source);

registerConformanceOp('attention_linear', (i, _p, c) => {
  const att = new LinearAttention({
    featureMap: c.feature_map as FeatureMapName,
    eps: c.eps as number,
    causalForm: c.causal_form as CausalForm | undefined,
    chunkSize: c.chunk_size as number | undefined,
  });
  const qkTransform = c.rope_base ? testRope(c.rope_base as number) : undefined;
  return { out: att.call(i.q, i.k, i.v, { ...callOpts(i, c), qkTransform }) };
}, source);

registerConformanceOp('attention_performer', (i, _p, c, ctx) => {
  const att = new PerformerAttention({
    headDim: i.q.shape[3],
    numFeatures: c.num_features as number,
    projection: i.projection,
    eps: c.eps as number,
    causalForm: c.causal_form as CausalForm,
    chunkSize: c.chunk_size as number,
    dtype: ctx.dtype as 'float32',
    backend: ctx.backend,
  });
  return { out: att.call(i.q, i.k, i.v, callOpts(i, c)) };
}, source);

registerConformanceOp('attention_norm', (i, p, c, ctx) => {
  const att = new NormAttention({
    numHeads: c.num_heads as number,
    headDim: c.head_dim as number,
    norm: c.norm as 'rmsnorm',
    eps: c.eps as number,
    causalForm: c.causal_form as CausalForm,
    chunkSize: c.chunk_size as number | undefined,
    dtype: ctx.dtype as 'float32',
    backend: ctx.backend,
  });
  return { out: functionalCall(att, p, i.q, i.k, i.v, callOpts(i, c)) as Tensor };
}, source);

registerConformanceOp('attention_diag', (i, _p, c) => ({
  out: new DiagAttention({ chunkSize: c.chunk_size as number }).call(i.q, i.k, i.v, callOpts(i, c)),
}), source);

registerConformanceOp('attention_sparse', (i, _p, c) => ({
  out: new SparseAttention({ pattern: c.pattern as SparsePattern, blockSize: c.block_size as number, globalTokens: c.global_tokens as number }).call(i.q, i.k, i.v, callOpts(i, c)),
}), source);

registerConformanceOp('attention_linformer', (i, p, c, ctx) => {
  const att = new LinformerAttention({
    numHeads: c.num_heads as number,
    seqLen: c.seq_len as number,
    projectedLength: c.projected_length as number,
    sharing: c.sharing as 'shared',
    dtype: ctx.dtype as 'float32',
    backend: ctx.backend,
  });
  return { out: functionalCall(att, p, i.q, i.k, i.v) as Tensor };
}, source);

registerConformanceOp('attention_gau', (i, p, c, ctx) => {
  const gau = new GAU(c.dim as number, { queryKeyDim: c.query_key_dim as number, expansionFactor: c.expansion_factor as number, causal: c.causal as boolean, dtype: ctx.dtype as 'float32', backend: ctx.backend });
  return { out: functionalCall(gau, p, i.x) as Tensor };
}, source);

registerConformanceOp('attention_flash', (i, p, c, ctx) => {
  const flash = new FLASH(c.dim as number, {
    groupSize: c.group_size as number,
    queryKeyDim: c.query_key_dim as number,
    expansionFactor: c.expansion_factor as number,
    causal: c.causal as boolean,
    dtype: ctx.dtype as 'float32',
    backend: ctx.backend,
  });
  return { out: functionalCall(flash, p, i.x) as Tensor };
}, source);

registerConformanceOp('attention_multihead', (i, p, c, ctx) => {
  const mha = new MultiheadAttention(c.embed_dim as number, { numHeads: c.num_heads as number, dtype: ctx.dtype as 'float32', backend: ctx.backend });
  return { out: functionalCall(mha, p, i.x, undefined, undefined, { causal: c.causal as boolean, keyPaddingMask: i.key_padding_mask }) as Tensor };
}, source);
