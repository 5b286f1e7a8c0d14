/**
 * The kernel contract: the one closed set of primitive kernels that tensor-core composes everything from.
 *
 * Every backend (the TypeScript reference, formers' own WebAssembly backend, and the gpu.js modes) implements
 * exactly this interface. A kernel never mutates its inputs and always returns a fresh, contiguous, row-major
 * buffer. Shapes are validated by the caller (tensor-core) at its public boundary; a backend may assume that the
 * arguments it gets are consistent, but it must still never read outside a buffer it was given.
 *
 * Sync and async: a kernel returns `Out<H>`, which is the handle itself on synchronous backends (CPU, wasm) and a
 * Promise of it on asynchronous ones (webgpu, threaded webasm). tensor-core chains the promises, so the same model
 * code runs on both ("eager enqueue, async readback", as in tfjs).
 */

export type DType = 'float32' | 'float64' | 'int32';

export type TypedArray = Float32Array | Float64Array | Int32Array;

export type ArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : Int32Array;

/** A value that is ready now (sync backends) or later (async backends). */
export type Out<T> = T | Promise<T>;

/**
 * A strided view of a backend buffer, as tensor-core's views describe it. `strides` are in elements and may be 0
 * (broadcast/expand) or negative (flip). `offset` is the element index of the view's first element.
 */
export interface View<H> {
  readonly data: H;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

export type UnaryOp =
  | 'identity' // copy, and cast when outDtype differs; makes a strided view contiguous
  | 'neg'
  | 'abs'
  | 'sign'
  | 'exp'
  | 'log'
  | 'log1p'
  | 'expm1'
  | 'sqrt'
  | 'rsqrt'
  | 'reciprocal'
  | 'square'
  | 'sin'
  | 'cos'
  | 'tanh'
  | 'sigmoid'
  | 'erf'
  | 'relu'
  | 'gelu' // exact: x * Phi(x), Phi via erf
  | 'gelu_tanh' // the tanh approximation (Hendrycks & Gimpel)
  | 'silu'
  | 'elu' // x > 0 ? x : expm1(x) (alpha 1; tensor-core scales other alphas)
  | 'softplus' // log(1 + exp(x)), computed stably
  | 'floor'
  | 'ceil'
  | 'round'; // round half to even, as torch.round

export type BinaryOp =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'pow'
  | 'maximum'
  | 'minimum'
  | 'atan2'
  | 'eq'
  | 'ne'
  | 'lt'
  | 'le'
  | 'gt'
  | 'ge'; // comparisons give 1 or 0 in the output dtype

export type ReduceOp = 'sum' | 'max' | 'min' | 'argmax' | 'argmin';

/**
 * Axis layout used by the per-axis kernels: a contiguous buffer seen as (outer, size, inner), where `size` is the
 * length of the axis the kernel works along. Any axis of a contiguous tensor maps onto this without a copy.
 */
export interface AxisLayout {
  readonly outer: number;
  readonly size: number;
  readonly inner: number;
}

export interface MatmulParams {
  /** Batch count of the output. */
  readonly batch: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** A is stored (batch, k, m) instead of (batch, m, k) when true. */
  readonly transA: boolean;
  /** B is stored (batch, n, k) instead of (batch, k, n) when true. */
  readonly transB: boolean;
  /** Element stride between consecutive batch matrices of A and B; 0 broadcasts one matrix over the batch. */
  readonly strideA: number;
  readonly strideB: number;
}

export interface NormParams {
  readonly rows: number;
  readonly cols: number;
  readonly eps: number;
}

export interface NormResult<H> {
  readonly out: H;
  /** Per-row mean (layerNorm only; undefined for rmsNorm), saved for the backward pass. */
  readonly mean?: H;
  /** Per-row 1/sqrt(var + eps) (layerNorm) or 1/sqrt(mean(x^2) + eps) (rmsNorm). */
  readonly rstd: H;
}

export interface Conv2dParams {
  /** Input (N, C_in, H, W), weight (C_out, C_in / groups, kH, kW), output (N, C_out, H_out, W_out). */
  readonly n: number;
  readonly cIn: number;
  readonly h: number;
  readonly w: number;
  readonly cOut: number;
  readonly kH: number;
  readonly kW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly groups: number;
  readonly hOut: number;
  readonly wOut: number;
}

export interface Conv1dParams {
  /** Input (N, C_in, L), weight (C_out, C_in / groups, k), output (N, C_out, L_out). */
  readonly n: number;
  readonly cIn: number;
  readonly l: number;
  readonly cOut: number;
  readonly k: number;
  readonly stride: number;
  readonly pad: number;
  readonly dilation: number;
  readonly groups: number;
  readonly lOut: number;
}

export interface ScanParams extends AxisLayout {
  /** Run from the end of the axis to its start (used by the backward passes). */
  readonly reverse: boolean;
}

/**
 * The primitive kernels. `H` is the backend's buffer handle (a typed array on CPU backends, a device buffer on
 * GPU backends). Every returned buffer is contiguous, row-major and owned by the caller.
 */
export interface Kernels<H> {
  /** Elementwise op over a strided view; `param` is unused by the current ops and reserved. */
  unary(op: UnaryOp, x: View<H>, outDtype: DType): Out<H>;
  /** Elementwise op with PyTorch broadcasting; `a` and `b` are already expanded (stride 0) to `outShape`. */
  binary(op: BinaryOp, a: View<H>, b: View<H>, outShape: readonly number[], outDtype: DType): Out<H>;
  /** `cond ? a : b` elementwise; all three already expanded to `outShape`. */
  where(cond: View<H>, a: View<H>, b: View<H>, outShape: readonly number[], outDtype: DType): Out<H>;
  /** Reduce the middle axis of (outer, size, inner) to (outer, inner). argmax/argmin return int32 indices. */
  reduce(op: ReduceOp, x: H, dtype: DType, layout: AxisLayout): Out<H>;
  /** C[b] = op(A[b]) @ op(B[b]), output (batch, m, n). */
  matmul(a: H, b: H, dtype: DType, p: MatmulParams): Out<H>;
  /** softmax (or log_softmax when `log`) along the middle axis of (outer, size, inner). */
  softmax(x: H, dtype: DType, layout: AxisLayout, log: boolean): Out<H>;
  /** Per-row layer norm of (rows, cols), with optional affine weight and bias of length cols. */
  layerNorm(x: H, weight: H | null, bias: H | null, dtype: DType, p: NormParams): Out<NormResult<H>>;
  /** Per-row RMS norm of (rows, cols), with optional weight of length cols. */
  rmsNorm(x: H, weight: H | null, dtype: DType, p: NormParams): Out<NormResult<H>>;
  conv1d(x: H, weight: H, dtype: DType, p: Conv1dParams): Out<H>;
  conv2d(x: H, weight: H, dtype: DType, p: Conv2dParams): Out<H>;
  /** Gradient of conv2d with respect to its input, given dL/dy (N, C_out, H_out, W_out). */
  conv2dGradInput(dy: H, weight: H, dtype: DType, p: Conv2dParams): Out<H>;
  /** Gradient of conv2d with respect to its weight, given x and dL/dy. */
  conv2dGradWeight(x: H, dy: H, dtype: DType, p: Conv2dParams): Out<H>;
  /**
   * torch.gather: out[..., i, ...] = x[..., index[..., i, ...], ...] along the middle axis. `x` is
   * (outer, size, inner); `index` is an int32 view of shape (outer, outSize, inner), possibly expanded.
   * Indices outside [0, size) are an error the caller rules out; a kernel clamps rather than read out of bounds.
   */
  gather(x: H, dtype: DType, layout: AxisLayout, index: View<H>, outSize: number): Out<H>;
  /**
   * The adjoint of gather: a zero (outer, size, inner) buffer to which src (outer, srcSize, inner) is added at
   * `index` along the middle axis. Out-of-range indices are skipped, never written.
   */
  scatterAdd(src: H, dtype: DType, index: View<H>, layout: AxisLayout, srcSize: number): Out<H>;
  /** Concatenate contiguous buffers along the middle axis; `sizes[i]` is input i's axis length. */
  concat(xs: readonly H[], dtype: DType, outer: number, sizes: readonly number[], inner: number): Out<H>;
  /** Inclusive cumulative sum along the middle axis (reverse: from the end). */
  cumsum(x: H, dtype: DType, p: ScanParams): Out<H>;
  /**
   * First-order linear recurrence along the middle axis: h[t] = a[t] * h[t-1] + b[t], h[-1] = h0 (or 0).
   * `a`, `b` are (outer, T, inner); `h0` is (outer, inner). With `reverse`, t runs from T-1 down to 0 and
   * h[T] = h0. This is the scan that SSMs and causal linear attention need.
   */
  linearRecurrence(a: H, b: H, h0: H | null, dtype: DType, p: ScanParams): Out<H>;
  /**
   * Complex FFT of `batch` rows of length n, given as separate real and imaginary buffers (batch, n). Any n >= 1.
   * The inverse includes the 1/n factor, as torch.fft.ifft does (norm="backward").
   */
  fft(re: H, im: H, dtype: DType, batch: number, n: number, inverse: boolean): Out<{ re: H; im: H }>;
}

/** Names of the backends formers knows. */
export type BackendName =
  | 'reference' // plain TypeScript, float32 and float64, synchronous: the ground truth
  | 'wasm' // formers' own WebAssembly SIMD kernels (packed GEMM, threaded), reference elsewhere; synchronous
  | 'cpu' // gpu.js cpu mode
  | 'webasm' // gpu.js webasm mode (SIMD; threads under the async contract)
  | 'headlessgl' // gpu.js headless-gl (needs the optional `gl` addon and a display, e.g. xvfb-run)
  | 'webgl2' // gpu.js in a browser
  | 'webgpu'; // gpu.js WebGPU (browser, or Node through the `webgpu` npm package)

/** A backend: buffer management plus the kernels. */
export interface Backend<H = unknown> extends Kernels<H> {
  readonly name: BackendName;
  /** True when every kernel returns its result synchronously, so `dataSync()` works. */
  readonly sync: boolean;
  /** The dtypes this backend computes in. GPU backends are float32 (and int32) only. */
  readonly dtypes: readonly DType[];
  /** Copy host data into a new backend buffer. The caller's array is never retained or mutated. */
  upload(data: TypedArray, dtype: DType): H;
  /** Read a buffer back. On sync backends `readSync` works; `read` works everywhere. */
  readSync(h: H, dtype: DType, size: number): TypedArray;
  read(h: H, dtype: DType, size: number): Promise<TypedArray>;
  /** Release a buffer's memory now. Idempotent. A no-op where the garbage collector owns memory. */
  dispose(h: H): void;
  /** Kernels that this backend delegated to another backend, with the reason (never silent). */
  readonly fallbacks: ReadonlyMap<string, string>;
}
