import type { Workload } from './workloads.js';

/** One prepared workload on one engine: `run` computes it once, results read back to the host. */
export interface Runner {
  run(): void | Promise<void>;
  dispose?(): void;
}

/** A library under test: formers' backends and the peers. */
export interface Engine {
  readonly name: string;
  /** A short note for the report (threads, SIMD, BLAS). */
  readonly note: string;
  /** A runner for `w`, or a reason string when the engine does not do this workload. */
  prepare(w: Workload): Promise<Runner | string>;
}
