/**
 * Deterministic memory release: `tidy(fn)` disposes every tensor created while `fn` ran, except the ones it
 * returns, the leaves that require grad (parameters), the gradients stored on leaves, and whatever the returned
 * tensors' autograd graphs still need for backward.
 */
import type { Tensor } from './tensor.js';

const scopes: Set<Tensor>[] = [];

/** Called by the Tensor constructor. */
export function trackTensor(t: Tensor): void {
  if (scopes.length > 0) scopes[scopes.length - 1].add(t);
}

/** Exempt a tensor from every enclosing `tidy` (tf.keep). Returns it. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

function isTensorLike(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && typeof (x as Tensor).storageData === 'function' && 'gradFn' in x;
}

/** Collect every tensor reachable from `value` (arrays, Maps, Sets, plain objects such as ComplexTensor). */
function collect(value: unknown, out: Set<Tensor>, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (isTensorLike(value)) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) value.forEach((v) => collect(v, out, seen));
  else if (value instanceof Map) value.forEach((v) => collect(v, out, seen));
  else if (value instanceof Set) value.forEach((v) => collect(v, out, seen));
  else if (Object.getPrototypeOf(value) === Object.prototype || 're' in value) {
    for (const v of Object.values(value)) collect(v, out, seen);
  }
}

/** Add the tensors a kept tensor's backward needs: its grad and the inputs/saved tensors of its graph. */
function closeOverGraph(kept: Set<Tensor>): void {
  const stack = [...kept];
  const visited = new Set<unknown>();
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (t.grad && !kept.has(t.grad)) {
      kept.add(t.grad);
      stack.push(t.grad);
    }
    const node = t.gradFn;
    if (!node || visited.has(node)) continue;
    visited.add(node);
    for (const x of [...node.inputs, ...node.saved, ...node.outputs]) {
      if (!kept.has(x)) {
        kept.add(x);
        stack.push(x);
      }
    }
  }
}

/**
 * Run `fn` and dispose the tensors it created that are not part of its result (tf.tidy). `fn` must be
 * synchronous. Tensors returned (also inside arrays, objects and Maps) move to the enclosing scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  if (typeof (result as { then?: unknown } | null)?.then === 'function') {
    throw new Error('tidy: expected fn to be synchronous; got a Promise (await outside tidy instead)');
  }
  const kept = new Set<Tensor>();
  collect(result, kept);
  for (const t of scope) if (t.isLeaf && t.requiresGrad) kept.add(t);
  closeOverGraph(kept);
  const parent = scopes.length > 0 ? scopes[scopes.length - 1] : null;
  for (const t of scope) {
    if (kept.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}
