/** Argument checks shared by the package's public constructors and functions. */
import type { Tensor } from '@formers/tensor-core';

/** Throw unless `v` is an integer >= `min`; returns it. */
export function checkInt(op: string, name: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new Error(`${op}: expected ${name} to be an integer >= ${min}; got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Throw unless `v` is a finite number in [lo, hi]; returns it. */
export function checkRange(op: string, name: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
    throw new Error(`${op}: expected ${name} to be a number in [${lo}, ${hi}]; got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Throw unless `v` is one of `allowed`; returns it. */
export function checkOneOf<T extends string>(op: string, name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw new Error(`${op}: expected ${name} to be one of ${allowed.map((a) => `'${a}'`).join(', ')}; got ${JSON.stringify(v)}`);
  }
  return v as T;
}

/** A readable description of a would-be tensor's shape for messages. */
export function shapeOf(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  const s = (x as Tensor).shape;
  return Array.isArray(s) ? `[${s.join(', ')}]` : typeof x;
}
