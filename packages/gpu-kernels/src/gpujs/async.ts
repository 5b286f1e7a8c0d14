/**
 * The gpu.js backends run one implementation in two calling styles: cpu, webasm, headlessgl and webgl2 return
 * kernel results synchronously, webgpu returns Promises. Kernels are written once against `Maybe<T>` and chain
 * their passes with `andThen`/`allOf` (not `then`: a module exporting `then` is itself a thenable to `await import()`), which stay synchronous whenever every input is.
 */
export type Maybe<T> = T | Promise<T>;

export function isPromise<T>(x: unknown): x is Promise<T> {
  return typeof (x as { then?: unknown } | null)?.then === 'function';
}

/** Apply `f` now when `x` is ready, or once it resolves. */
export function andThen<T, U>(x: Maybe<T>, f: (value: T) => Maybe<U>): Maybe<U> {
  return isPromise<T>(x) ? x.then(f) : f(x);
}

/** Like Promise.all, but synchronous when nothing is pending. */
export function allOf<T>(xs: readonly Maybe<T>[]): Maybe<T[]> {
  return xs.some((x) => isPromise(x)) ? Promise.all(xs) : (xs as T[]);
}
