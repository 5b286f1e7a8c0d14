/**
 * Conformance ops of @formers/position-encodings (cases written by tooling/reference/position_encodings.py into
 * test/golden/). Config keys are the torch-side names the script stores; modules are built from them and their
 * parameters passed with functionalCall, so the runner's leaves receive the gradients.
 */
import { registerConformanceOp, type ConformanceContext } from '../../../tooling/src/conformance/registry.js';
import { functionalCall, tensor, type Tensor } from '@formers/tensor-core';
import {
  alibiBias,
  alibiBias2d,
  alibiSlopes,
  ComplexOrderEmbedding,
  DebertaRelativeAttention,
  DebertaRelativeAttention2d,
  debertaLogBucketPosition,
  FloaterPositionEncoding,
  MultiplicativePositionalEmbedding,
  RelativePositionBias2d,
  ropeLinearAttention,
  ShawRelativePosition,
  ShawRelativePosition2d,
  TransformerXLRelativePosition,
  LearnedPositionalEmbedding,
  PositionEncodingGenerator,
  PositionEncodingGenerator1d,
  resampleAbsPosEmbed,
  RotaryEmbedding,
  RotaryEmbedding2d,
  ropeParameters,
  sinCos2dPositionEncoding,
  sinusoidalPositionEncoding,
  T5RelativePositionBias,
  T5RelativePositionBias2d,
  t5RelativePositionBucket,
  type RotaryLayout,
} from '@formers/position-encodings';
import { hfRopeOptions, type HfRopeConfig } from './hf-rope-config.js';

const source = { source: '@formers/position-encodings' };
type Cfg = Record<string, unknown>;
const num = (c: Cfg, k: string) => c[k] as number;
/** 2-D cases carry `grid` and `num_prefix_tokens`; 1-D ones do not. */
const gridOf = (c: Cfg) => (c.grid ? { gridSize: c.grid as [number, number], numPrefixTokens: num(c, 'num_prefix_tokens') } : undefined);
/** A 1-D case's offset, or a 2-D case's grid. */
const placement = (c: Cfg) => gridOf(c) ?? { offset: num(c, 'offset') };

registerConformanceOp('t5_relative_position_bucket', (i, _p, c) => {
  const rel = Array.from(i.relative_position.dataSync());
  const configs = c.configs as { bidirectional: boolean; num_buckets: number; max_distance: number }[];
  return Object.fromEntries(
    configs.map((b, k) => {
      const opts = { bidirectional: b.bidirectional, numBuckets: b.num_buckets, maxDistance: b.max_distance };
      return [`buckets${k}`, tensor(Int32Array.from(rel, (r) => t5RelativePositionBucket(r, opts)), { shape: [rel.length], dtype: 'int32' })];
    }),
  );
}, source);

registerConformanceOp('t5_relative_position_bias', (_i, p, c, ctx) => {
  const m = new T5RelativePositionBias({
    numHeads: num(c, 'num_heads'),
    numBuckets: num(c, 'num_buckets'),
    maxDistance: num(c, 'max_distance'),
    bidirectional: c.bidirectional as boolean,
    dtype: ctx.dtype,
    backend: ctx.backend,
  });
  return { out: functionalCall(m, { 'relative_attention_bias.weight': p.weight }, num(c, 'query_length'), num(c, 'key_length'), { queryOffset: num(c, 'offset') }) };
}, source);

registerConformanceOp('alibi_slopes', (_i, _p, c, ctx) =>
  Object.fromEntries((c.heads as number[]).map((n) => [`slopes${n}`, tensor(alibiSlopes(n), { dtype: ctx.dtype, backend: ctx.backend })])),
source);

registerConformanceOp('alibi_bias', (_i, _p, c, ctx) => ({
  out: alibiBias(num(c, 'num_heads'), num(c, 'query_length'), num(c, 'key_length'), { dtype: ctx.dtype, backend: ctx.backend }),
}), source);

registerConformanceOp('sinusoidal_position_encoding', (_i, _p, c, ctx) => {
  const opts = { base: num(c, 'base'), dtype: ctx.dtype, backend: ctx.backend };
  return {
    interleaved: sinusoidalPositionEncoding(num(c, 'num_positions'), num(c, 'dim'), { ...opts, layout: 'interleaved' }),
    concat: sinusoidalPositionEncoding(num(c, 'num_positions'), num(c, 'dim'), { ...opts, layout: 'concat' }),
  };
}, source);

registerConformanceOp('sincos_2d_position_encoding', (_i, _p, c, ctx) => ({
  table: sinCos2dPositionEncoding(num(c, 'dim'), c.grid as [number, number], { clsToken: c.cls_token as boolean, dtype: ctx.dtype, backend: ctx.backend }),
}), source);

registerConformanceOp('rope_parameters', (_i, _p, c, ctx) => {
  const o = hfRopeOptions(c as HfRopeConfig);
  const r = ropeParameters(o.dim, { base: o.base, scaling: o.scaling, seqLen: o.seqLen });
  return {
    inv_freq: tensor(r.invFreq, { dtype: ctx.dtype, backend: ctx.backend }),
    attention_factor: tensor([r.attentionScaling], { dtype: ctx.dtype, backend: ctx.backend }),
  };
}, source);

registerConformanceOp('rotary_embedding', (i, _p, c, ctx) => {
  const s = c.scaling as { factor: number; max_position_embeddings: number } | null;
  const rope = new RotaryEmbedding({
    dim: num(c, 'head_dim'),
    layout: c.layout as RotaryLayout,
    partialRotaryFactor: num(c, 'partial_rotary_factor'),
    scaling: s ? { type: 'yarn', factor: s.factor, maxPositionEmbeddings: s.max_position_embeddings } : undefined,
    dtype: ctx.dtype,
    backend: ctx.backend,
  });
  return { out: rope.rotate(i.q, { offset: num(c, 'offset') }) };
}, source);

registerConformanceOp('learned_positional_embedding', (i, p, c, ctx) => {
  const m = new LearnedPositionalEmbedding({ numPositions: num(c, 'num_positions'), dim: num(c, 'dim'), dtype: ctx.dtype, backend: ctx.backend });
  return { out: functionalCall(m, { weight: p.weight }, i.x, { offset: num(c, 'offset') }) };
}, source);

registerConformanceOp('resample_abs_pos_embed', (i, _p, c) => ({
  out: resampleAbsPosEmbed(i.pos_embed, {
    oldSize: c.old_size as [number, number],
    newSize: c.new_size as [number, number],
    numPrefixTokens: num(c, 'num_prefix_tokens'),
    antialias: c.antialias as boolean,
  }),
}), source);

registerConformanceOp('position_encoding_generator', (i, p, c, ctx) => {
  const m = new PositionEncodingGenerator({
    dim: num(c, 'dim'),
    kernelSize: num(c, 'kernel_size'),
    numPrefixTokens: num(c, 'num_prefix_tokens'),
    dtype: ctx.dtype,
    backend: ctx.backend,
  });
  return { out: functionalCall(m, { 'proj.0.weight': p.weight, 'proj.0.bias': p.bias }, i.x, { gridSize: c.grid as [number, number] }) };
}, source);

registerConformanceOp('position_encoding_generator_1d', (i, p, c, ctx) => {
  const m = new PositionEncodingGenerator1d({
    dim: num(c, 'dim'),
    kernelSize: num(c, 'kernel_size'),
    causal: c.causal as boolean,
    numPrefixTokens: num(c, 'num_prefix_tokens'),
    dtype: ctx.dtype,
    backend: ctx.backend,
  });
  return { out: functionalCall(m, { 'proj.0.weight': p.weight, 'proj.0.bias': p.bias }, i.x) as Tensor };
}, source);

registerConformanceOp('rotary_embedding_2d', (i, p, c, ctx) => {
  const m = new RotaryEmbedding2d({
    dim: num(c, 'dim'),
    mode: c.mode as 'axial' | 'mixed',
    layout: c.layout as RotaryLayout,
    numHeads: num(c, 'num_heads'),
    base: c.base as number | undefined,
    dtype: ctx.dtype,
    backend: ctx.backend,
  });
  const opts = { gridSize: c.grid as [number, number], numPrefixTokens: num(c, 'num_prefix_tokens') };
  return { out: p.freqs ? functionalCall(m, { freqs: p.freqs }, i.q, i.q, opts)[0] : m.rotate(i.q, opts) };
}, source);

registerConformanceOp('rope_linear_attention', (i, _p, c, ctx) => {
  const rope = new RotaryEmbedding({ dim: i.q.shape[3], layout: c.layout as RotaryLayout, base: num(c, 'base'), dtype: ctx.dtype, backend: ctx.backend });
  return { out: ropeLinearAttention(i.q, i.k, i.v, { rotate: rope.qkTransform, causal: c.causal as boolean, eps: num(c, 'eps') }) };
}, source);

registerConformanceOp('multiplicative_positional_embedding', (i, p, c, ctx) => {
  const m = new MultiplicativePositionalEmbedding({ numPositions: num(c, 'num_positions'), dim: num(c, 'dim'), dtype: ctx.dtype, backend: ctx.backend });
  return { out: functionalCall(m, { weight: p.weight }, i.x, placement(c)) };
}, source);

registerConformanceOp('floater_position_encoding', (i, p, c, ctx) => {
  const m = new FloaterPositionEncoding({
    dim: num(c, 'dim'),
    hiddenDim: num(c, 'hidden_dim'),
    interval: num(c, 'interval'),
    stepsPerPosition: num(c, 'steps_per_position'),
    dtype: ctx.dtype,
    backend: ctx.backend,
  });
  return { out: functionalCall(m, p, i.x, placement(c)) };
}, source);

registerConformanceOp('shaw_relative_attention', (i, p, c, ctx) => {
  const m = new ShawRelativePosition({ headDim: num(c, 'head_dim'), maxRelativePosition: num(c, 'max_relative_position'), dtype: ctx.dtype, backend: ctx.backend });
  return { out: functionalCall(m, p, i.q, i.k, i.v, { queryOffset: num(c, 'query_offset') }) };
}, source);

registerConformanceOp('transformer_xl_relative_scores', (i, p, c, ctx) => {
  const m = new TransformerXLRelativePosition({ dModel: num(c, 'd_model'), numHeads: num(c, 'num_heads'), headDim: num(c, 'head_dim'), dtype: ctx.dtype, backend: ctx.backend });
  return { out: functionalCall(m, p, i.q, i.k, gridOf(c)) };
}, source);

registerConformanceOp('deberta_log_bucket_position', (i, _p, c) => {
  const rel = Array.from(i.relative_position.dataSync());
  const configs = c.configs as { bucket_size: number; max_position: number }[];
  return Object.fromEntries(
    configs.map((b, k) => [
      `buckets${k}`,
      tensor(Int32Array.from(rel, (r) => debertaLogBucketPosition(r, b.bucket_size, b.max_position)), { shape: [rel.length], dtype: 'int32' }),
    ]),
  );
}, source);

/** DeBERTa options from a case's config (torch-side names), shared by the 1-D and 2-D ops. */
const debertaOptions = (c: Cfg, ctx: ConformanceContext) => ({
  hiddenSize: num(c, 'hidden_size'),
  numHeads: num(c, 'num_heads'),
  headDim: num(c, 'head_dim'),
  positionBuckets: num(c, 'position_buckets'),
  maxRelativePositions: num(c, 'max_relative_positions'),
  dtype: ctx.dtype,
  backend: ctx.backend,
});

registerConformanceOp('deberta_relative_attention', (i, p, c, ctx) => ({
  out: functionalCall(new DebertaRelativeAttention(debertaOptions(c, ctx)), p, i.q, i.k),
}), source);

registerConformanceOp('complex_order_embedding', (i, p, c, ctx) => {
  const m = new ComplexOrderEmbedding({ numEmbeddings: num(c, 'num_embeddings'), dim: num(c, 'dim'), dtype: ctx.dtype, backend: ctx.backend });
  const z = functionalCall(m, p, i.ids, placement(c));
  return { out: c.part === 're' ? z.re : z.im };
}, source);

registerConformanceOp('relative_position_bias_2d', (_i, p, c, ctx) => {
  const m = new RelativePositionBias2d({ windowSize: c.window_size as [number, number], numHeads: num(c, 'num_heads'), clsToken: c.cls_token as boolean, dtype: ctx.dtype, backend: ctx.backend });
  return { out: functionalCall(m, p) };
}, source);

registerConformanceOp('alibi_bias_2d', (_i, _p, c, ctx) => ({
  out: alibiBias2d(num(c, 'num_heads'), c.grid as [number, number], { numPrefixTokens: num(c, 'num_prefix_tokens'), dtype: ctx.dtype, backend: ctx.backend }),
}), source);

registerConformanceOp('t5_relative_position_bias_2d', (_i, p, c, ctx) => {
  const m = new T5RelativePositionBias2d({ numHeads: num(c, 'num_heads'), numBuckets: num(c, 'num_buckets'), maxDistance: num(c, 'max_distance'), dtype: ctx.dtype, backend: ctx.backend });
  return { out: functionalCall(m, p, gridOf(c)!) };
}, source);

registerConformanceOp('shaw_relative_attention_2d', (i, p, c, ctx) => {
  const m = new ShawRelativePosition2d({ headDim: num(c, 'head_dim'), maxRelativePosition: num(c, 'max_relative_position'), dtype: ctx.dtype, backend: ctx.backend });
  return { out: functionalCall(m, p, i.q, i.k, i.v, gridOf(c)!) };
}, source);

registerConformanceOp('deberta_relative_attention_2d', (i, p, c, ctx) => ({
  out: functionalCall(new DebertaRelativeAttention2d(debertaOptions(c, ctx)), p, i.q, i.k, gridOf(c)!),
}), source);
