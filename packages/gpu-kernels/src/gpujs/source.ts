/**
 * Helpers for generating gpu.js kernel sources. Every kernel is generated per shape with the sizes written in as
 * literals, so the GLSL/WGSL compilers see constant loop bounds and the source string itself identifies the
 * compiled kernel (see kernel-cache.ts).
 *
 * Index arithmetic is done in floats, which is what every gpu.js backend shares: integers below 2^24 are exact,
 * and an integer quotient is taken as floor((i + 0.5) / n), which stays correct even where a GPU's division is
 * off by an ulp (9 / 3 = 2.9999...).
 */

/** A float literal ("3.0", "-0.5"): GLSL and WGSL need the decimal point to type it as float. */
export function f(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`gpujs: cannot write the non-finite literal ${x} into a kernel`);
  const s = String(x);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/** An integer literal for a loop bound. */
export function int(x: number): string {
  if (!Number.isInteger(x) || x < 0) throw new Error(`gpujs: expected a non-negative integer loop bound; got ${x}`);
  return String(x);
}

/**
 * Statements that split the flat index held in variable `index` into coordinates of `shape` (row-major), naming
 * each `${prefix}${d}`. Dims of extent 1 get the literal coordinate 0. Uses a scratch variable `${prefix}r`.
 */
export function decompose(index: string, shape: readonly number[], prefix: string): string {
  const lines: string[] = [`let ${prefix}r = ${index};`];
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d];
    if (d === 0) {
      lines.push(`const ${prefix}${d} = ${prefix}r;`);
    } else if (n === 1) {
      lines.push(`const ${prefix}${d} = 0.0;`);
    } else {
      lines.push(`const ${prefix}q${d} = Math.floor((${prefix}r + 0.5) / ${f(n)});`);
      lines.push(`const ${prefix}${d} = ${prefix}r - ${prefix}q${d} * ${f(n)};`);
      lines.push(`${prefix}r = ${prefix}q${d};`);
    }
  }
  return lines.join('\n');
}

/** `floor((a + 0.5) / n)` for an integer-valued float expression `a` and a positive integer n. */
export function idiv(a: string, n: number): string {
  return n === 1 ? `(${a})` : `Math.floor((${a} + 0.5) / ${f(n)})`;
}

/** Wrap a body into the gpu.js kernel function source with the given argument names. */
export function kernelSource(args: readonly string[], body: string): string {
  return `function(${args.join(', ')}) {\nconst i = this.thread.x;\n${body}\n}`;
}
