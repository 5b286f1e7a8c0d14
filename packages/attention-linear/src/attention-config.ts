/**
 * Attention configuration: a discriminated union on `type`, so that a model swaps its attention by config
 * (`{ type: 'performer', numFeatures: 256 }`) and `createAttentionCore(config, dims)` builds the core.
 */
import type { DType, Generator, BackendLike } from '@formers/tensor-core';
import type { FeatureMapName } from './feature-maps.js';

/** Sizes and placement the factory needs besides the config. */
export interface AttentionDims {
  readonly numHeads: number;
  readonly headDim: number;
  /** Maximum sequence length; required by Linformer (its E/F project along the sequence). */
  readonly seqLen?: number;
  /** Parameter dtype; default float32. */
  readonly dtype?: DType;
  readonly backend?: BackendLike;
  /** Generator for initialisation, random features and dropout. */
  readonly generator?: Generator;
}

/** Softmax attention (Vaswani et al. 2017). */
export interface SoftmaxAttentionConfig {
  readonly type: 'softmax';
  /** Default 1 / sqrt(Dh). */
  readonly scale?: number;
  /** Dropout on the probabilities; default 0. */
  readonly dropout?: number;
}

/** Memory-efficient softmax attention: online softmax over key blocks (Rabe & Staats 2021; Milakov & Gimelshein 2018). */
export interface ChunkedSoftmaxAttentionConfig {
  readonly type: 'softmax-chunked';
  readonly scale?: number;
  readonly dropout?: number;
  /** Keys per block; default 256. */
  readonly keyChunkSize?: number;
  /** Queries per block; default 256. */
  readonly queryChunkSize?: number;
}

/** Causal computation forms of the linear attentions. */
export type { CausalForm } from './linear-kernel.js';
import type { CausalForm } from './linear-kernel.js';

/** Linear attention (Katharopoulos et al. 2020). */
export interface LinearAttentionConfig {
  readonly type: 'linear';
  /** Feature map phi; default 'elu+1'. */
  readonly featureMap?: FeatureMapName;
  /** Added to the normaliser; default 1e-6. */
  readonly eps?: number;
  /** How the causal form is computed; default 'chunkwise'. All agree to rounding. */
  readonly causalForm?: CausalForm;
  /** Chunk length for the chunkwise causal form; default 64. */
  readonly chunkSize?: number;
}

/** Performer / FAVOR+ (Choromanski et al. 2021). */
export interface PerformerAttentionConfig {
  readonly type: 'performer';
  /** Random features M; default round(Dh * ln Dh) as performer-pytorch's nb_features. */
  readonly numFeatures?: number;
  /** Orthogonal random features (QR per block, chi row norms); default true. */
  readonly orthogonal?: boolean;
  /** Redraw the features every this many training forwards; default null (only on `redrawFeatures()`). */
  readonly redrawInterval?: number | null;
  /** Added inside the features; default 1e-4 (performer-pytorch). */
  readonly eps?: number;
  readonly causalForm?: CausalForm;
  readonly chunkSize?: number;
}

/** TransNormer NormAttention (Qin et al. 2022). */
export interface NormAttentionConfig {
  readonly type: 'norm';
  /** Feature map; default 'elu+1'. */
  readonly featureMap?: FeatureMapName;
  /** Output normalisation over the merged heads (H * Dh); default 'rmsnorm'. */
  readonly norm?: 'rmsnorm' | 'layernorm';
  /** Norm epsilon; default 1e-6 for rmsnorm, 1e-5 for layernorm. */
  readonly eps?: number;
  readonly causalForm?: CausalForm;
  readonly chunkSize?: number;
}

/** TransNormer DiagAttention (Qin et al. 2022): block-diagonal local softmax. */
export interface DiagAttentionConfig {
  readonly type: 'diag';
  /** Block length; default 64. */
  readonly chunkSize?: number;
  readonly scale?: number;
  readonly dropout?: number;
}

/** Sparse attention patterns (Child et al. 2019; Beltagy et al. 2020). */
export type SparsePattern =
  | { readonly kind: 'sliding-window'; readonly window: number }
  | { readonly kind: 'strided'; readonly stride: number }
  | { readonly kind: 'fixed'; readonly stride: number; readonly summary?: number };

/** Block-sparse attention. */
export interface SparseAttentionConfig {
  readonly type: 'sparse';
  readonly pattern: SparsePattern;
  /** Block size of the block-sparse computation; default 32. */
  readonly blockSize?: number;
  /** Number of leading global tokens (attend to and from everything); default 0. */
  readonly globalTokens?: number;
  readonly scale?: number;
  readonly dropout?: number;
}

/** Linformer (Wang et al. 2020). */
export interface LinformerAttentionConfig {
  readonly type: 'linformer';
  /** Projected length k (k << N). */
  readonly projectedLength: number;
  /** One E/F pair for all heads ('shared', default) or one per head ('per-head'). */
  readonly sharing?: 'shared' | 'per-head';
  /** Use one matrix for both keys and values (the paper's key-value sharing); default false. */
  readonly shareKV?: boolean;
  readonly scale?: number;
  readonly dropout?: number;
}

export type AttentionConfig =
  | SoftmaxAttentionConfig
  | ChunkedSoftmaxAttentionConfig
  | LinearAttentionConfig
  | PerformerAttentionConfig
  | NormAttentionConfig
  | DiagAttentionConfig
  | SparseAttentionConfig
  | LinformerAttentionConfig;

export type AttentionType = AttentionConfig['type'];

export const ATTENTION_TYPES: readonly AttentionType[] = ['softmax', 'softmax-chunked', 'linear', 'performer', 'norm', 'diag', 'sparse', 'linformer'];
