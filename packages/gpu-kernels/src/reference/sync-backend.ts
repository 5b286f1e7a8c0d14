import type { Backend, Kernels } from '../types.js';

/** The kernels of a synchronous backend: each returns its result directly instead of `Out<...>`. */
export type SyncKernels<H> = {
  [K in keyof Kernels<H>]: Kernels<H>[K] extends (...args: infer A) => infer R ? (...args: A) => Awaited<R> : never;
};

/**
 * A backend whose kernels are synchronous in their types as well, so callers (the wasm backend delegating to
 * the reference, tests) need no cast. Assignable to `Backend<H>`.
 */
export interface SyncBackend<H> extends Omit<Backend<H>, keyof Kernels<H>>, SyncKernels<H> {}
