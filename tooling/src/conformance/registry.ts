/**
 * The conformance op registry: maps a golden case's `op` name to a function that computes the case's outputs
 * with formers. tensor-core's ops are registered in ops-tensor-core.ts; another package registers its ops and
 * layers from `packages/<pkg>/test/conformance-ops.ts`, which the runner imports before running any case.
 *
 * The table lives on globalThis, so two copies of this module (imported through different paths) share it.
 */
import type { Backend, DType } from '@formers/gpu-kernels';
import type { Tensor } from '@formers/tensor-core';

/** Tensors by name, without their `input.` / `param.` / `output.` prefix. */
export type ConformanceTensors = Record<string, Tensor>;

/** What a case runs in: the backend its tensors were uploaded to and the case's float dtype. */
export interface ConformanceContext {
  backend: Backend;
  dtype: DType;
}

/**
 * Computes a case: `inputs` and `params` as stored (float tensors in the case dtype, with `requiresGrad` set
 * where the case has a gradient for them; integer and bool tensors as int32), `config` the parsed `config`
 * metadata (torch keyword names). Returns every output by name; each must be differentiable where the case
 * stores a cotangent for it.
 */
export type ConformanceOpFn = (
  inputs: ConformanceTensors,
  params: ConformanceTensors,
  config: Record<string, unknown>,
  ctx: ConformanceContext,
) => ConformanceTensors;

interface Registration {
  fn: ConformanceOpFn;
  source: string;
}

const KEY = Symbol.for('formers.conformance.registry');
const table: Map<string, Registration> = ((globalThis as Record<symbol, unknown>)[KEY] ??= new Map()) as Map<
  string,
  Registration
>;

/** Options of `registerConformanceOp`. */
export interface RegisterConformanceOpOptions {
  /** Who registered it (shown in errors), e.g. '@formers/attention-linear'. */
  source?: string;
  /** Replace an existing registration instead of throwing. Default false. */
  replace?: boolean;
}

/** Register the function that computes golden cases whose metadata `op` is `opName`. */
export function registerConformanceOp(opName: string, fn: ConformanceOpFn, opts: RegisterConformanceOpOptions = {}): void {
  if (typeof opName !== 'string' || opName.length === 0) {
    throw new Error(`registerConformanceOp: expected opName to be a non-empty string; got ${JSON.stringify(opName)}`);
  }
  if (typeof fn !== 'function') throw new Error(`registerConformanceOp: expected fn for "${opName}" to be a function; got ${typeof fn}`);
  const prev = table.get(opName);
  const source = opts.source ?? 'unknown';
  if (prev && !opts.replace && prev.fn !== fn) {
    throw new Error(`registerConformanceOp: "${opName}" is already registered by ${prev.source}; pass { replace: true } to override`);
  }
  table.set(opName, { fn, source });
}

/** The function registered for `opName`, or undefined. */
export function getConformanceOp(opName: string): ConformanceOpFn | undefined {
  return table.get(opName)?.fn;
}

/** Every registered op name with the source that registered it, sorted by name. */
export function listConformanceOps(): { op: string; source: string }[] {
  return [...table].map(([op, r]) => ({ op, source: r.source })).sort((a, b) => (a.op < b.op ? -1 : 1));
}
