/** Build an `AttentionCore` from a config (a discriminated union on `type`) and the model's dims. */
import type { AttentionCore } from './attention-core.js';
import { ATTENTION_TYPES, type AttentionConfig, type AttentionDims } from './attention-config.js';
import { SoftmaxAttention } from './softmax-attention.js';
import { ChunkedSoftmaxAttention } from './chunked-softmax-attention.js';
import { LinearAttention } from './linear-attention.js';
import { PerformerAttention } from './performer-attention.js';
import { NormAttention } from './norm-attention.js';
import { DiagAttention } from './diag-attention.js';
import { LinformerAttention } from './linformer-attention.js';
import { SparseAttention } from './sparse-attention.js';
import { checkInt } from './validate.js';

/**
 * `createAttentionCore({ type: 'softmax' }, { numHeads: 8, headDim: 64 })`. Every core maps q (B, H, Nq, Dh),
 * k, v (B, H, Nk, Dh) -> (B, H, Nq, Dh); cores with parameters (Linformer, TransNormer's norm) create them with
 * `dims.dtype`, `dims.backend` and `dims.generator`.
 */
export function createAttentionCore(config: AttentionConfig, dims: AttentionDims): AttentionCore {
  if (config === null || typeof config !== 'object') throw new Error(`createAttentionCore: expected config to be an object with a type; got ${String(config)}`);
  if (dims === null || typeof dims !== 'object') throw new Error(`createAttentionCore: expected dims { numHeads, headDim }; got ${String(dims)}`);
  checkInt('createAttentionCore', 'dims.numHeads', dims.numHeads);
  checkInt('createAttentionCore', 'dims.headDim', dims.headDim);
  const type = (config as { type?: unknown }).type;
  switch (config.type) {
    case 'softmax':
      return new SoftmaxAttention({ scale: config.scale, dropout: config.dropout, generator: dims.generator });
    case 'softmax-chunked':
      return new ChunkedSoftmaxAttention({ ...config, generator: dims.generator });
    case 'linear':
      return new LinearAttention(config);
    case 'performer':
      return new PerformerAttention({ ...config, headDim: dims.headDim, dtype: dims.dtype, backend: dims.backend, generator: dims.generator });
    case 'norm':
      return new NormAttention({ ...config, numHeads: dims.numHeads, headDim: dims.headDim, dtype: dims.dtype, backend: dims.backend });
    case 'diag':
      return new DiagAttention({ ...config, generator: dims.generator });
    case 'sparse':
      return new SparseAttention({ ...config, generator: dims.generator });
    case 'linformer':
      if (dims.seqLen === undefined) throw new Error("createAttentionCore: expected dims.seqLen for type 'linformer' (E/F project along the sequence); got undefined");
      return new LinformerAttention({ ...config, numHeads: dims.numHeads, seqLen: dims.seqLen, dtype: dims.dtype, backend: dims.backend, generator: dims.generator });
    default:
      throw new Error(`createAttentionCore: expected config.type one of ${ATTENTION_TYPES.map((t) => `'${t}'`).join(', ')}; got ${JSON.stringify(type)}`);
  }
}
