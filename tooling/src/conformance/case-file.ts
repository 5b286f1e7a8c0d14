/**
 * Reading a golden case file (format: docs/conformance.md). A case is a safetensors file whose tensors are named
 * `input.<n>`, `param.<n>`, `output.<n>`, `cotangent.<n>` (one per differentiable output) and `grad.<n>` (the
 * gradient of sum_o sum(output.o * cotangent.o) with respect to input or param n), with `op`, `config`, `dtype`,
 * optional `rtol` / `atol` / `tolerance_reason`, and `provenance` in `__metadata__`.
 */
import { parseSafetensors, type SafetensorsEntry } from '@formers/tensor-core';

/** A parsed case, tensors still as host arrays. */
export interface ConformanceCase {
  /** Display name (usually the path relative to the repository root, without `.safetensors`). */
  name: string;
  op: string;
  config: Record<string, unknown>;
  /** The dtype float tensors are computed in. */
  dtype: 'float32' | 'float64';
  rtol: number;
  atol: number;
  /** Set when the file overrides a default tolerance (required then). */
  toleranceReason?: string;
  provenance?: string;
  inputs: Map<string, SafetensorsEntry>;
  params: Map<string, SafetensorsEntry>;
  outputs: Map<string, SafetensorsEntry>;
  cotangents: Map<string, SafetensorsEntry>;
  grads: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

/** Default tolerances by case dtype: a check passes where |actual - expected| <= atol + rtol * |expected|. */
export const DEFAULT_TOLERANCE: Readonly<Record<'float32' | 'float64', { rtol: number; atol: number }>> = Object.freeze({
  float32: { rtol: 1e-4, atol: 1e-5 },
  // float64 golden values come from torch in float64; formers' float64 kernels differ only by summation order.
  float64: { rtol: 1e-9, atol: 1e-12 },
});

const GROUPS = ['input', 'param', 'output', 'cotangent', 'grad'] as const;

/** Metadata key of a case file: its presence marks a safetensors file as a conformance case. */
export const CASE_OP_KEY = 'op';

/** Parse case bytes; throws naming the case and the problem for anything that does not follow the format. */
export function readConformanceCase(bytes: Uint8Array, name: string): ConformanceCase {
  const { entries, metadata } = parseSafetensors(bytes);
  const fail = (msg: string): never => {
    throw new Error(`case ${name}: ${msg}`);
  };
  const op = metadata[CASE_OP_KEY];
  if (!op) fail('metadata has no "op" key, so this is not a conformance case');
  let config: unknown = {};
  if (metadata.config !== undefined) {
    try {
      config = JSON.parse(metadata.config);
    } catch (e) {
      fail(`metadata "config" is not valid JSON (${(e as Error).message})`);
    }
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) fail('metadata "config" must be a JSON object');
  const dtype = metadata.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') fail(`metadata "dtype" must be "float32" or "float64"; got ${JSON.stringify(dtype)}`);
  const dflt = DEFAULT_TOLERANCE[dtype as 'float32' | 'float64'];
  const tol = (key: 'rtol' | 'atol'): number => {
    const raw = metadata[key];
    if (raw === undefined) return dflt[key];
    const v = Number(raw);
    if (!Number.isFinite(v) || v < 0) fail(`metadata "${key}" must be a non-negative number; got ${JSON.stringify(raw)}`);
    return v;
  };
  const rtol = tol('rtol');
  const atol = tol('atol');
  if ((metadata.rtol !== undefined || metadata.atol !== undefined) && !metadata.tolerance_reason) {
    fail('overrides rtol/atol without a "tolerance_reason"');
  }
  const groups = Object.fromEntries(GROUPS.map((g) => [g, new Map<string, SafetensorsEntry>()])) as Record<
    (typeof GROUPS)[number],
    Map<string, SafetensorsEntry>
  >;
  for (const [key, e] of entries) {
    const dot = key.indexOf('.');
    const group = key.slice(0, dot) as (typeof GROUPS)[number];
    if (dot <= 0 || !GROUPS.includes(group) || dot === key.length - 1) {
      fail(`tensor "${key}" is not named <${GROUPS.join('|')}>.<name>`);
    }
    groups[group].set(key.slice(dot + 1), e);
  }
  if (groups.output.size === 0) fail('has no output.* tensor');
  for (const n of groups.input.keys()) if (groups.param.has(n)) fail(`"${n}" is both an input and a param`);
  for (const n of groups.cotangent.keys()) {
    if (!groups.output.has(n)) fail(`cotangent.${n} has no matching output.${n}`);
    if (!sameShape(groups.cotangent.get(n)!.shape, groups.output.get(n)!.shape)) fail(`cotangent.${n} and output.${n} differ in shape`);
  }
  for (const n of groups.grad.keys()) {
    const leaf = groups.input.get(n) ?? groups.param.get(n);
    if (!leaf) fail(`grad.${n} has no matching input.${n} or param.${n}`);
    if (leaf!.data instanceof Int32Array) fail(`grad.${n} is for an integer tensor`);
    if (!sameShape(leaf!.shape, groups.grad.get(n)!.shape)) fail(`grad.${n} differs in shape from its tensor`);
  }
  if (groups.grad.size > 0 && groups.cotangent.size === 0) fail('has grad.* tensors but no cotangent.*');
  return {
    name,
    op,
    config: config as Record<string, unknown>,
    dtype: dtype as 'float32' | 'float64',
    rtol,
    atol,
    toleranceReason: metadata.tolerance_reason,
    provenance: metadata.provenance,
    inputs: groups.input,
    params: groups.param,
    outputs: groups.output,
    cotangents: groups.cotangent,
    grads: groups.grad,
    metadata,
  };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
