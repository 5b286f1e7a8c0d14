/** Argument checks shared by the public boundary of this package. */

/** Throw unless `value` is an integer >= `min`; the message names the function and the argument. */
export function checkInt(op: string, name: string, value: unknown, min = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new Error(`${op}: expected ${name} to be an integer >= ${min}; got ${String(value)}`);
  }
  return value;
}

/** Throw unless `value` is a finite number > 0. */
export function checkPositive(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new Error(`${op}: expected ${name} to be a finite number > 0; got ${String(value)}`);
  }
  return value;
}

/** Throw unless `value` is one of `allowed`. */
export function checkOneOf<T extends string>(op: string, name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new Error(`${op}: expected ${name} to be one of ${allowed.map((a) => `'${a}'`).join(', ')}; got ${JSON.stringify(value)}`);
  }
  return value as T;
}
