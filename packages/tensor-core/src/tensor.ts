/**
 * The Tensor: a strided view of a backend buffer, with autograd bookkeeping.
 *
 * Design: eager enqueue, asynchronous readback (the tfjs model).
 * - A tensor's storage is `Out<H>`: the backend handle itself on synchronous backends (reference, wasm, gpu.js
 *   cpu), or a Promise of it on asynchronous ones (webgpu, threaded webasm). An op calls its kernel at once. When
 *   an input's storage is still a Promise, the op chains on `Promise.all` and its result's storage is a Promise;
 *   no op ever blocks.
 * - Shapes, dtypes and arguments are validated eagerly, since shapes are always known on the host: a bad call
 *   throws at the line that made it, on every backend.
 * - `t.dataSync()` reads back synchronously and throws a clear error on pending storage ("use await t.data()").
 *   `await t.data()` works everywhere. The same model code thus runs on both kinds of backend.
 * - A tensor records its backend (like a torch device) and every op requires all its tensor inputs on the same
 *   backend; `t.to(name | dtype)` moves or casts.
 * - Views (reshape of compatible layouts, permute, transpose, slice, expand, unsqueeze, squeeze, flip through
 *   negative strides) share storage and change only shape/strides/offset. Kernels that need a contiguous buffer
 *   get a temporary copy through the `identity` strided kernel, released once the kernel ran.
 * - Memory: views share one reference-counted storage. `t.dispose()` drops this tensor's reference (the buffer is
 *   released when no tensor uses it any more); `tidy(fn)` disposes what `fn` created and did not return.
 * - In-place methods (`copy_`, `add_`, `fill_`, ...) rebind this tensor to a new buffer and bump its version; other
 *   views of the old buffer keep the old values (unlike torch, where they alias).
 * - Autograd: see autograd.ts. Gradients are ordinary tensors on the same backend.
 */
import type { Backend, BackendName, DType, Out, TypedArray } from '@formers/gpu-kernels';
import { getBackend, getBackendByName, referenceBackend } from '@formers/gpu-kernels';
import { backward as runBackward, type BackwardOptions, type Node } from './autograd.js';
import { isGradEnabled, noGrad } from './grad-mode.js';
import { denseHandle, isPromise, mapOut, run } from './kernel.js';
import { trackTensor } from './scope.js';
import { contiguousStrides, fmt, numelOf, shapesEqual } from './shape.js';
import * as E from './ops/elementwise.js';
import * as R from './ops/reduce.js';
import * as V from './ops/views.js';
import * as M from './ops/matmul.js';
import * as S from './ops/softmax.js';
import * as J from './ops/join.js';
import * as I from './ops/indexing.js';
import * as C from './ops/scan.js';

export type { DType } from '@formers/gpu-kernels';

/** A backend, or the name of a registered one. */
export type BackendLike = Backend | BackendName;

/** A Tensor or a plain number (broadcast as a scalar of the other operand's dtype). */
export type TensorLike = Tensor | number;

/** Nested arrays of numbers, as `tolist()` returns. */
export type NestedArray = number | NestedArray[];

/** The buffer behind one or more views, with a reference count so `dispose` is safe for shared storage. */
export interface Storage {
  data: Out<unknown>;
  readonly backend: Backend;
  readonly dtype: DType;
  /** Number of elements in the buffer. */
  readonly size: number;
  refs: number;
}

let nextId = 0;

/** Resolve a backend argument: a Backend, a registered backend name, or the active backend when absent. */
export function resolveBackend(b?: BackendLike): Backend {
  const backend = b === undefined ? getBackend() : typeof b === 'string' ? getBackendByName(b) : b;
  // Reference backends are stateless and their handles are plain typed arrays, so every instance is one device:
  // tensors made through `referenceBackend`, `getBackendByName('reference')` or a fresh instance mix freely.
  return backend.name === 'reference' ? referenceBackend : backend;
}

/** A fresh storage for a kernel result. */
export function newStorage(backend: Backend, dtype: DType, size: number, data: Out<unknown>): Storage {
  const s: Storage = { data, backend, dtype, size, refs: 0 };
  if (isPromise(data)) {
    // Once resolved, later ops and readbacks use the handle directly. A rejection surfaces at readback.
    data.then(
      (h) => {
        if (s.data === data) s.data = h;
      },
      () => {},
    );
  }
  return s;
}

export class Tensor {
  /** Unique id, for debugging and maps. */
  readonly id = nextId++;
  /** Extent of each dimension. */
  readonly shape: readonly number[];
  /** Element stride of each dimension (0 for expanded dims, negative for flipped ones). */
  readonly strides: readonly number[];
  /** Element index of the first element in the storage. */
  readonly offset: number;
  /** Whether backward should compute a gradient for this tensor (see `requiresGrad_`). */
  requiresGrad = false;
  /** The accumulated gradient of a leaf after `backward` (or of a tensor that called `retainGrad`). */
  grad: Tensor | null = null;
  /** The node that produced this tensor, or null for a leaf. */
  gradFn: Node | null = null;
  /** Which output of `gradFn` this tensor is. */
  outputIndex = 0;
  /** Set by `retainGrad()`: keep `.grad` on a non-leaf during backward. */
  retainsGrad = false;
  /** Bumped by every in-place op, so backward can detect a modified saved tensor. */
  version = 0;
  private store: Storage;
  private disposed = false;

  /** @internal Use the creation functions (`tensor`, `zeros`, ...) instead. */
  constructor(storage: Storage, shape: readonly number[], strides?: readonly number[], offset = 0) {
    this.store = storage;
    storage.refs++;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this.offset = offset;
    trackTensor(this);
  }

  /**
   * A contiguous tensor of `shape` that adopts `data`, a buffer (or Promise of one) of `backend` that nothing else
   * holds: a kernel result, such as the output of a backend's optional fused kernel (see `withBuffer`). Not copied;
   * disposing the tensor hands it back to the backend.
   */
  static fromData(backend: Backend, dtype: DType, shape: readonly number[], data: Out<unknown>): Tensor {
    return new Tensor(newStorage(backend, dtype, numelOf(shape), data), shape);
  }

  /** A view sharing this tensor's storage. @internal */
  makeView(shape: readonly number[], strides: readonly number[], offset: number): Tensor {
    this.assertAlive('view');
    return new Tensor(this.store, shape, strides, offset);
  }

  get backend(): Backend {
    return this.store.backend;
  }
  get dtype(): DType {
    return this.store.dtype;
  }
  get ndim(): number {
    return this.shape.length;
  }
  get numel(): number {
    return numelOf(this.shape);
  }
  /** True for tensors not produced by a recorded op (user-created tensors and parameters). */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }
  get isDisposed(): boolean {
    return this.disposed;
  }
  /** True while the storage is a pending Promise (async backends). */
  get isPending(): boolean {
    return isPromise(this.store.data);
  }
  /** Number of tensors sharing this tensor's storage. @internal */
  get storageRefs(): number {
    return this.store.refs;
  }
  /** Same storage as `other` (views of one buffer). */
  sharesStorageWith(other: Tensor): boolean {
    return this.store === other.store;
  }
  /** Extent of `dim` (negative counts from the end), or the whole shape. */
  size(): number[];
  size(dim: number): number;
  size(dim?: number): number | number[] {
    if (dim === undefined) return [...this.shape];
    const d = dim < 0 ? dim + this.ndim : dim;
    if (!(d >= 0 && d < this.ndim)) throw new Error(`size: expected dim in [${-this.ndim}, ${this.ndim - 1}]; got ${dim}`);
    return this.shape[d];
  }

  /** The storage as a handle or Promise of it. @internal */
  storageData(): Out<unknown> {
    this.assertAlive('use');
    return this.store.data;
  }

  private assertAlive(what: string): void {
    if (this.disposed) throw new Error(`Tensor: cannot ${what} tensor ${fmt(this.shape)} (id ${this.id}): it was disposed`);
  }

  /** True when the elements are laid out row-major (any offset). */
  isContiguous(): boolean {
    let expected = 1;
    for (let d = this.ndim - 1; d >= 0; d--) {
      if (this.shape[d] !== 1 && this.strides[d] !== expected) return false;
      expected *= this.shape[d];
    }
    return true;
  }

  // ---- readback ----------------------------------------------------------------------------------------------

  /**
   * The elements as a fresh typed array, synchronously. Throws on an asynchronous backend or pending storage:
   * use `await t.data()` there.
   */
  dataSync(): TypedArray {
    this.assertAlive('read');
    if (isPromise(this.store.data) || !this.backend.sync) {
      throw new Error(
        `dataSync: tensor ${fmt(this.shape)} on backend "${this.backend.name}" is computed asynchronously; ` +
          'use `await t.data()` instead',
      );
    }
    const c = this.denseData();
    const out = this.backend.readSync(c.data as unknown, this.dtype, this.numel);
    if (c.temp) this.backend.dispose(c.data);
    return out;
  }

  /**
   * Call `fn` with this tensor's elements as the backend's own buffer, row-major from element 0 (a temporary
   * contiguous copy when this is a strided view, released when `fn` returns), and return what it returns: the way
   * to hand tensors to a backend's optional fused kernels without copying them out, as torch's data_ptr() is.
   * Synchronous backends only. `fn` must neither write into the buffer nor keep it.
   */
  withBuffer<R>(fn: (buffer: unknown) => R): R {
    this.assertAlive('read');
    if (isPromise(this.store.data) || !this.backend.sync) {
      throw new Error(`withBuffer: tensor ${fmt(this.shape)} on backend "${this.backend.name}" is computed asynchronously; it needs a synchronous backend`);
    }
    const c = this.denseData();
    try {
      return fn(c.data);
    } finally {
      if (c.temp) this.backend.dispose(c.data);
    }
  }

  /** The elements as a fresh typed array, on every backend. */
  async data(): Promise<TypedArray> {
    this.assertAlive('read');
    const c = this.denseData();
    const h = await c.data;
    const out = await this.backend.read(h, this.dtype, this.numel);
    if (c.temp) this.backend.dispose(h);
    return out;
  }

  /** Wait until the storage is computed; resolves with this tensor. */
  async realize(): Promise<this> {
    await this.storageData();
    return this;
  }

  private denseData(): { data: Out<unknown>; temp: boolean } {
    return denseHandle(this);
  }

  /**
   * Nested arrays of numbers (synchronous backends); a number for a 0-d tensor. Typed `any` so results index
   * naturally (`t.tolist()[0][1]`), as Python lists do.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  tolist(): any {
    return nest(this.dataSync(), this.shape);
  }

  /** Nested arrays of numbers, on every backend. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async array(): Promise<any> {
    return nest(await this.data(), this.shape);
  }

  /** The single element of a one-element tensor as a number (synchronous backends). */
  item(): number {
    if (this.numel !== 1) {
      throw new Error(`item: expected a tensor with one element; got shape ${fmt(this.shape)} (${this.numel} elements)`);
    }
    return this.dataSync()[0];
  }

  toString(): string {
    const body = this.isPending || !this.backend.sync ? '<pending>' : JSON.stringify(this.tolist());
    return `tensor(${body}, shape=${fmt(this.shape)}, dtype=${this.dtype}, backend=${this.backend.name})`;
  }

  // ---- memory ------------------------------------------------------------------------------------------------

  /** Release this tensor's reference to its storage; the buffer is freed when no view uses it. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const s = this.store;
    s.refs--;
    if (s.refs === 0) mapOut(s.data, (h) => s.backend.dispose(h));
  }

  // ---- autograd ----------------------------------------------------------------------------------------------

  /** Set `requiresGrad` (only on leaves, and only for float dtypes), returning this tensor. */
  requiresGrad_(on = true): this {
    if (on && this.dtype === 'int32') {
      throw new Error('requiresGrad_: only floating point tensors can require gradients; got dtype int32');
    }
    if (!on && !this.isLeaf) {
      throw new Error('requiresGrad_: can only change requiresGrad of leaf tensors (use detach())');
    }
    this.requiresGrad = on;
    return this;
  }

  /** Keep `.grad` on this non-leaf tensor during backward. */
  retainGrad(): this {
    this.retainsGrad = true;
    return this;
  }

  /** A view of the same data that is not part of the graph. */
  detach(): Tensor {
    return this.makeView(this.shape, this.strides, this.offset);
  }

  /** Backpropagate from this tensor; see autograd.ts. */
  backward(grad?: Tensor, opts?: BackwardOptions): void {
    runBackward(this, grad, opts);
  }

  /** Clear the gradient (torch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    this.grad = null;
  }

  // ---- in-place ----------------------------------------------------------------------------------------------

  /**
   * Rebind this tensor to `value`'s data (same shape), recording the op for autograd when needed. The basis of
   * every in-place method. @internal
   */
  assignFrom(value: Tensor, op: string): this {
    if (isGradEnabled() && this.isLeaf && this.requiresGrad) {
      throw new Error(`${op}: a leaf tensor that requires grad is being used in an in-place operation (use noGrad)`);
    }
    if (value.backend !== this.backend) {
      throw new Error(`${op}: expected a tensor on backend "${this.backend.name}"; got "${value.backend.name}"`);
    }
    if (!shapesEqual(value.shape, this.shape)) {
      throw new Error(
        `${op}: the result's shape ${fmt(value.shape)} does not match the in-place tensor's shape ${fmt(this.shape)}`,
      );
    }
    const src =
      value.isContiguous() && value.offset === 0 && value.dtype === this.dtype && value.store.size === this.numel
        ? value
        : noGrad(() => V.clone(E.cast(value, this.dtype)));
    const old = this.store;
    this.store = src.store;
    this.store.refs++;
    (this as { strides: readonly number[] }).strides = Object.freeze(contiguousStrides(this.shape));
    (this as { offset: number }).offset = 0;
    old.refs--;
    if (old.refs === 0) mapOut(old.data, (h) => old.backend.dispose(h));
    this.version++;
    if (value.requiresGrad && isGradEnabled()) {
      this.requiresGrad = true;
      this.gradFn = value.gradFn;
      this.outputIndex = value.outputIndex;
    }
    return this;
  }

  /**
   * Run `f` on a snapshot of this tensor (same storage and history), then rebind this tensor to the result, so
   * the recorded graph refers to the old value and never to itself.
   */
  private inplace(op: string, f: (self: Tensor) => Tensor): this {
    if (isGradEnabled() && this.isLeaf && this.requiresGrad) {
      throw new Error(`${op}: a leaf tensor that requires grad is being used in an in-place operation (use noGrad)`);
    }
    const self = this.makeView(this.shape, this.strides, this.offset);
    self.requiresGrad = this.requiresGrad;
    self.gradFn = this.gradFn;
    self.outputIndex = this.outputIndex;
    const result = f(self);
    this.assignFrom(result, op);
    self.dispose();
    return this;
  }

  /** Copy `src` (broadcast to this shape, cast to this dtype) into this tensor. */
  copy_(src: Tensor): this {
    return this.inplace('copy_', () => E.cast(V.expand(src, this.shape), this.dtype));
  }
  /** Set every element to `value`. */
  fill_(value: number): this {
    return this.inplace('fill_', (self) => E.fullLikeScalar(self, value));
  }
  zero_(): this {
    return this.fill_(0);
  }
  add_(other: TensorLike, opts?: { alpha?: number }): this {
    return this.inplace('add_', (self) => E.add(self, other, opts));
  }
  sub_(other: TensorLike, opts?: { alpha?: number }): this {
    return this.inplace('sub_', (self) => E.sub(self, other, opts));
  }
  mul_(other: TensorLike): this {
    return this.inplace('mul_', (self) => E.mul(self, other));
  }
  div_(other: TensorLike): this {
    return this.inplace('div_', (self) => E.div(self, other));
  }
  clamp_(min?: number | null, max?: number | null): this {
    return this.inplace('clamp_', (self) => E.clamp(self, min, max));
  }

  // ---- conversion --------------------------------------------------------------------------------------------

  /** Cast to a dtype or move to a backend (differentiable). */
  to(target: DType | BackendLike): Tensor {
    return E.to(this, target);
  }
  float(): Tensor {
    return E.cast(this, 'float32');
  }
  double(): Tensor {
    return E.cast(this, 'float64');
  }
  int(): Tensor {
    return E.cast(this, 'int32');
  }

  // ---- views -------------------------------------------------------------------------------------------------

  reshape(...shape: (number | readonly number[])[]): Tensor {
    return V.reshape(this, flatArgs(shape));
  }
  view(...shape: (number | readonly number[])[]): Tensor {
    return V.view(this, flatArgs(shape));
  }
  permute(...dims: (number | readonly number[])[]): Tensor {
    return V.permute(this, flatArgs(dims));
  }
  transpose(dim0: number, dim1: number): Tensor {
    return V.transpose(this, dim0, dim1);
  }
  /** Transpose of a matrix (a 0-d or 1-d tensor is returned as is). */
  t(): Tensor {
    return V.t(this);
  }
  /** Transpose of the last two dims. */
  get mT(): Tensor {
    return V.transpose(this, -2, -1);
  }
  slice(dim: number, start?: number | null, end?: number | null, step?: number): Tensor {
    return V.slice(this, dim, start, end, step);
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return V.narrow(this, dim, start, length);
  }
  select(dim: number, index: number): Tensor {
    return V.select(this, dim, index);
  }
  expand(...shape: (number | readonly number[])[]): Tensor {
    return V.expand(this, flatArgs(shape));
  }
  expandAs(other: Tensor): Tensor {
    return V.expand(this, other.shape);
  }
  unsqueeze(dim: number): Tensor {
    return V.unsqueeze(this, dim);
  }
  squeeze(dim?: number | readonly number[]): Tensor {
    return V.squeeze(this, dim);
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return V.flatten(this, startDim, endDim);
  }
  unflatten(dim: number, sizes: readonly number[]): Tensor {
    return V.unflatten(this, dim, sizes);
  }
  flip(dims: number | readonly number[]): Tensor {
    return V.flip(this, dims);
  }
  movedim(source: number, destination: number): Tensor {
    return V.movedim(this, source, destination);
  }
  contiguous(): Tensor {
    return V.contiguous(this);
  }
  clone(): Tensor {
    return V.clone(this);
  }
  repeat(...reps: (number | readonly number[])[]): Tensor {
    return J.repeat(this, flatArgs(reps));
  }

  // ---- elementwise -------------------------------------------------------------------------------------------

  add(other: TensorLike, opts?: { alpha?: number }): Tensor {
    return E.add(this, other, opts);
  }
  sub(other: TensorLike, opts?: { alpha?: number }): Tensor {
    return E.sub(this, other, opts);
  }
  mul(other: TensorLike): Tensor {
    return E.mul(this, other);
  }
  div(other: TensorLike): Tensor {
    return E.div(this, other);
  }
  pow(exponent: TensorLike): Tensor {
    return E.pow(this, exponent);
  }
  maximum(other: TensorLike): Tensor {
    return E.maximum(this, other);
  }
  minimum(other: TensorLike): Tensor {
    return E.minimum(this, other);
  }
  eq(other: TensorLike): Tensor {
    return E.eq(this, other);
  }
  ne(other: TensorLike): Tensor {
    return E.ne(this, other);
  }
  lt(other: TensorLike): Tensor {
    return E.lt(this, other);
  }
  le(other: TensorLike): Tensor {
    return E.le(this, other);
  }
  gt(other: TensorLike): Tensor {
    return E.gt(this, other);
  }
  ge(other: TensorLike): Tensor {
    return E.ge(this, other);
  }
  neg(): Tensor {
    return E.neg(this);
  }
  abs(): Tensor {
    return E.abs(this);
  }
  sign(): Tensor {
    return E.sign(this);
  }
  exp(): Tensor {
    return E.exp(this);
  }
  expm1(): Tensor {
    return E.expm1(this);
  }
  log(): Tensor {
    return E.log(this);
  }
  log1p(): Tensor {
    return E.log1p(this);
  }
  sqrt(): Tensor {
    return E.sqrt(this);
  }
  rsqrt(): Tensor {
    return E.rsqrt(this);
  }
  reciprocal(): Tensor {
    return E.reciprocal(this);
  }
  square(): Tensor {
    return E.square(this);
  }
  sin(): Tensor {
    return E.sin(this);
  }
  cos(): Tensor {
    return E.cos(this);
  }
  tanh(): Tensor {
    return E.tanh(this);
  }
  sigmoid(): Tensor {
    return E.sigmoid(this);
  }
  relu(): Tensor {
    return E.relu(this);
  }
  gelu(opts?: { approximate?: 'none' | 'tanh' }): Tensor {
    return E.gelu(this, opts);
  }
  silu(): Tensor {
    return E.silu(this);
  }
  elu(opts?: { alpha?: number }): Tensor {
    return E.elu(this, opts);
  }
  softplus(opts?: { beta?: number; threshold?: number }): Tensor {
    return E.softplus(this, opts);
  }
  erf(): Tensor {
    return E.erf(this);
  }
  floor(): Tensor {
    return E.floor(this);
  }
  ceil(): Tensor {
    return E.ceil(this);
  }
  round(): Tensor {
    return E.round(this);
  }
  clamp(min?: number | null, max?: number | null): Tensor {
    return E.clamp(this, min, max);
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return E.maskedFill(this, mask, value);
  }

  // ---- reductions --------------------------------------------------------------------------------------------

  sum(dim?: R.DimArg | R.ReduceOptions, keepdim?: boolean): Tensor {
    return R.sum(this, dim, keepdim);
  }
  mean(dim?: R.DimArg | R.ReduceOptions, keepdim?: boolean): Tensor {
    return R.mean(this, dim, keepdim);
  }
  var(dim?: R.DimArg | R.VarOptions, keepdim?: boolean): Tensor {
    return R.variance(this, dim, keepdim);
  }
  std(dim?: R.DimArg | R.VarOptions, keepdim?: boolean): Tensor {
    return R.std(this, dim, keepdim);
  }
  /** Maximum values (over all elements, or over `dim`); for indices too use `maxDim`. */
  max(dim?: R.DimArg | R.ReduceOptions, keepdim?: boolean): Tensor {
    return R.amax(this, dim, keepdim);
  }
  min(dim?: R.DimArg | R.ReduceOptions, keepdim?: boolean): Tensor {
    return R.amin(this, dim, keepdim);
  }
  amax(dim?: R.DimArg | R.ReduceOptions, keepdim?: boolean): Tensor {
    return R.amax(this, dim, keepdim);
  }
  amin(dim?: R.DimArg | R.ReduceOptions, keepdim?: boolean): Tensor {
    return R.amin(this, dim, keepdim);
  }
  argmax(dim?: number | { dim?: number; keepdim?: boolean }, keepdim?: boolean): Tensor {
    return R.argmax(this, dim, keepdim);
  }
  argmin(dim?: number | { dim?: number; keepdim?: boolean }, keepdim?: boolean): Tensor {
    return R.argmin(this, dim, keepdim);
  }
  logsumexp(dim: R.DimArg | R.ReduceOptions, keepdim?: boolean): Tensor {
    return R.logsumexp(this, dim, keepdim);
  }
  norm(opts?: R.NormOptions): Tensor {
    return R.norm(this, opts);
  }
  cumsum(dim: number): Tensor {
    return C.cumsum(this, dim);
  }

  // ---- linear algebra, softmax, indexing ---------------------------------------------------------------------

  matmul(other: Tensor): Tensor {
    return M.matmul(this, other);
  }
  bmm(other: Tensor): Tensor {
    return M.bmm(this, other);
  }
  softmax(dim: number): Tensor {
    return S.softmax(this, dim);
  }
  logSoftmax(dim: number): Tensor {
    return S.logSoftmax(this, dim);
  }
  gather(dim: number, index: Tensor): Tensor {
    return I.gather(this, dim, index);
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return I.indexSelect(this, dim, index);
  }
  split(sizeOrSections: number | readonly number[], dim = 0): Tensor[] {
    return J.split(this, sizeOrSections, dim);
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return J.chunk(this, chunks, dim);
  }
}

/** Accept `f(2, 3)`, `f([2, 3])` and `f(...[2, 3])`. */
function flatArgs(args: (number | readonly number[])[]): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return [...(args[0] as number[])];
  return args as number[];
}

function nest(data: TypedArray, shape: readonly number[]): NestedArray {
  if (shape.length === 0) return data[0];
  const build = (dim: number, at: number): NestedArray[] => {
    const stride = numelOf(shape.slice(dim + 1));
    const out: NestedArray[] = [];
    for (let i = 0; i < shape[dim]; i++) {
      out.push(dim === shape.length - 1 ? data[at + i] : build(dim + 1, at + i * stride));
    }
    return out;
  };
  return build(0, 0);
}
