/** Conformance ops of @formers/ssm-hippo (cases written by tooling/reference/ssm_hippo.py). */
import { registerConformanceOp } from '../../../tooling/src/conformance/registry.js';
import { functionalCall, tensor, type Tensor } from '@formers/tensor-core';
import {
  Mamba,
  MambaModel,
  S4D,
  s4Kernel,
  discretize,
  hippoTransition,
  matrix,
  s4dKernel,
  selectiveScan,
  type DiscretizationMethod,
  type HippoMeasure,
  type Matrix,
} from '@formers/ssm-hippo';

const source = { source: '@formers/ssm-hippo' };

function toTensor(m: Matrix, like: { dtype: 'float32' | 'float64' | 'int32'; backend: unknown }): Tensor {
  return tensor(Array.from(m.data), { shape: [m.rows, m.cols], dtype: like.dtype as 'float64', backend: like.backend as never });
}

function toMatrix(t: Tensor): Matrix {
  const d = Array.from(t.dataSync());
  return matrix(Array.from({ length: t.shape[0] }, (_, i) => d.slice(i * t.shape[1], (i + 1) * t.shape[1])));
}

registerConformanceOp('hippo_transition', (_i, _p, c, ctx) => {
  const { measure, N, ...opts } = c as { measure: HippoMeasure; N: number };
  const t = hippoTransition(measure, N, opts);
  return { A: toTensor(t.A, ctx), B: toTensor(t.B, ctx) };
}, source);

registerConformanceOp('discretize', (i, _p, c, ctx) => {
  const t = discretize({ A: toMatrix(i.A), B: toMatrix(i.B) }, c.dt as number, c.method as DiscretizationMethod);
  return { A: toTensor(t.A, ctx), B: toTensor(t.B, ctx) };
}, source);

registerConformanceOp('selective_scan', (i, _p, c) => ({
  out: selectiveScan(i.u, i.delta, i.A, i.B, i.C, {
    D: i.D ?? null,
    z: i.z ?? null,
    deltaBias: i.delta_bias ?? null,
    deltaSoftplus: (c.delta_softplus as boolean | undefined) ?? false,
  }).y,
}), source);

registerConformanceOp('s4d_kernel', (_i, p, c) => ({
  out: s4dKernel({ logDt: p.log_dt, C: p.C, logAReal: p.log_A_real, AImag: p.A_imag }, c.L as number, { method: c.method as 'zoh' | 'bilinear' }),
}), source);

registerConformanceOp('s4d', (i, p, c, ctx) => {
  const layer = new S4D(c.d_model as number, { dState: c.d_state as number, dtype: ctx.dtype as 'float32', backend: ctx.backend });
  // functionalCall (not loadStateDict) so that the runner's parameter leaves receive the gradients.
  return { out: functionalCall(layer, p, i.u) as Tensor };
}, source);

registerConformanceOp('mamba_mixer', (i, p, c, ctx) => {
  const block = new Mamba(c.hidden_size as number, {
    dState: c.state_size as number,
    dConv: c.conv_kernel as number,
    expand: c.expand as number,
    dtRank: c.time_step_rank as number,
    dtype: ctx.dtype as 'float32',
    backend: ctx.backend,
  });
  return { out: functionalCall(block, p, i.hidden_states) as Tensor };
}, source);

registerConformanceOp('s4_kernel', (_i, p, c) => ({
  out: s4Kernel({ logDt: p.log_dt, logAReal: p.log_A_real, AImag: p.A_imag, P: p.P, B: p.B, C: p.C }, c.L as number),
}), source);

registerConformanceOp('mamba_model', (i, p, c, ctx) => {
  const model = new MambaModel({
    vocabSize: c.vocab_size as number,
    hiddenSize: c.hidden_size as number,
    numHiddenLayers: c.num_hidden_layers as number,
    stateSize: c.state_size as number,
    convKernel: c.conv_kernel as number,
    expand: c.expand as number,
    timeStepRank: c.time_step_rank as number,
    layerNormEpsilon: c.layer_norm_epsilon as number,
    dtype: ctx.dtype as 'float32',
    backend: ctx.backend,
  });
  return { out: functionalCall(model, p, i.input_ids) as Tensor };
}, source);
