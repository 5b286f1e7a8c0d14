import type { Backend, DType, Kernels, TypedArray, View } from '@formers/gpu-kernels';
import type { Layout } from './layouts.js';

export type KernelName = keyof Kernels<unknown>;

/** Host data a case uploads before calling the kernel. */
export interface HostInput {
  readonly data: TypedArray;
  readonly dtype: DType;
  /** Indices and conditions: kept as they are when the suite builds the |input| run for the error scale. */
  readonly keep?: boolean;
}

export interface OutputSpec {
  readonly dtype: DType;
  readonly size: number;
}

/**
 * How the tolerance scales per output element:
 * - 'none':  |got - want| <= atol + rtol * |want|.
 * - 'abs':   the kernel is a sum of products, so rtol is applied to the same kernel run on |inputs| (the classic
 *            rounding-error bound sum |a_i b_i|), not to |want|, which cancellation can make arbitrarily small.
 * - 'fft-row': rtol is applied to ||expected row||_2 / sqrt(n), the per-element scale of FFT rounding error
 *            (||x||_2 for the forward transform, ||x||_2 / n for the inverse).
 */
export type ScaleMode = 'none' | 'abs' | 'fft-row';

/** One kernel call on fixed inputs, independent of any test runner, so Node and a browser page can share it. */
export interface ConformanceCase {
  /** `kernel/op/dtype/label`, unique within a case list. */
  readonly id: string;
  readonly kernel: KernelName;
  readonly dtype: DType;
  /** Labels such as 'edge', 'empty', 'large', 'strided', 'broadcast', 'out-of-range'. */
  readonly tags: readonly string[];
  readonly inputs: readonly HostInput[];
  readonly outputs: readonly OutputSpec[];
  readonly scale: ScaleMode;
  /** Row length, for 'fft-row'. */
  readonly rowLength?: number;
  /** Calls the kernel on uploaded handles (in `inputs` order) and resolves with the output handles. */
  invoke(backend: Backend, handles: readonly unknown[]): Promise<unknown[]>;
}

/** Geometry of a view input; the handle is attached at call time. */
export interface ViewSpec extends Layout {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

export function viewOf(handle: unknown, spec: ViewSpec): View<unknown> {
  return { data: handle, dtype: spec.dtype, shape: spec.shape, strides: spec.strides, offset: spec.offset };
}
