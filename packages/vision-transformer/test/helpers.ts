/** Test helpers: golden files written by tooling/reference/vision_transformer.py, and closeness checks. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadSafetensors, parseSafetensors, tensor, type Tensor } from '@formers/tensor-core';
import { expect } from 'vitest';
import { VisionTransformer, type VisionTransformerOptions } from '../src/index.js';

const GOLDEN_DIR = fileURLToPath(new URL('./golden/', import.meta.url));

export function goldenBytes(file: string): Uint8Array {
  return new Uint8Array(readFileSync(GOLDEN_DIR + file));
}

/** A golden file's tensors by name (float32 as stored) and its metadata. */
export function goldenFile(file: string): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const bytes = goldenBytes(file);
  const { metadata } = parseSafetensors(bytes);
  return { tensors: loadSafetensors(bytes).tensors, metadata };
}

/** The reference script's config (snake_case, timm's argument names). */
export interface RefConfig {
  img_size: number;
  patch_size: number;
  in_chans: number;
  embed_dim: number;
  depth: number;
  num_heads: number;
  mlp_ratio: number;
  num_classes: number;
  init_values: number | null;
  class_token: boolean;
  global_pool: 'token' | 'avg';
  pos_encoding: 'learned' | 'peg';
  peg_positions: number[];
  eval_size?: number;
}

/** Our options for a reference config. */
export function optionsFromRef(c: RefConfig, extra: VisionTransformerOptions = {}): VisionTransformerOptions {
  return {
    imgSize: c.img_size,
    patchSize: c.patch_size,
    inChans: c.in_chans,
    embedDim: c.embed_dim,
    depth: c.depth,
    numHeads: c.num_heads,
    mlpRatio: c.mlp_ratio,
    numClasses: c.num_classes,
    initValues: c.init_values,
    classToken: c.class_token,
    globalPool: c.global_pool,
    posEncoding: c.pos_encoding === 'peg' ? { type: 'peg', positions: c.peg_positions } : 'learned',
    ...extra,
  };
}

export function modelFromRef(c: RefConfig, extra: VisionTransformerOptions = {}): VisionTransformer {
  return new VisionTransformer(optionsFromRef(c, extra));
}

/** |a - e| <= atol + rtol |e| elementwise (the repo's float32 defaults); reports the first mismatch. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: { rtol?: number; atol?: number } = {}, what = 'value'): void {
  const rtol = tol.rtol ?? 1e-4;
  const atol = tol.atol ?? 1e-5;
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const ok = Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]);
    if (!ok) expect.fail(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (rtol ${rtol}, atol ${atol})`);
  }
}

/** True when no element is NaN or infinite. */
export function allFinite(t: Tensor): boolean {
  return Array.from(t.dataSync()).every((v) => Number.isFinite(v));
}

/** A fixed weighting of an output so that a scalar loss sees every element. */
export function weightedSum(out: Tensor, seed = 3): Tensor {
  const w = Float64Array.from({ length: out.numel }, (_, i) => Math.sin(seed * (i + 1)) + 0.5);
  return out.mul(tensor(out.dtype === 'float64' ? w : Float32Array.from(w), { shape: out.shape, dtype: out.dtype, backend: out.backend })).sum();
}
