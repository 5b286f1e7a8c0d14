import type { AxisLayout } from '../../types.js';
import { andThen, type Maybe } from '../async.js';
import type { KernelRunner } from '../runner.js';
import { decompose, f, int, kernelSource } from '../source.js';

/**
 * Reductions along the middle axis of (outer, size, inner), the shape every per-axis kernel uses.
 *
 * One GPU thread per output would leave a long axis (1e5 elements, one line) to a single thread, so lines longer
 * than LONG_LINE are cut into CHUNK-long pieces: the first pass writes one partial per (outer, chunk, inner),
 * and the partials are reduced again the same way until one value per line is left.
 */
export const CHUNK = 256;
export const LONG_LINE = 1024;

export type LineOp = 'sum' | 'max' | 'min';

export interface LineReduce {
  readonly kernel: string;
  readonly op: LineOp;
  /**
   * The value each element contributes, as an expression of `v` (the element) and `ln` (its line's index into
   * (outer, inner), for per-line inputs `aux0`, `aux1`, ...). Default: `v`.
   */
  readonly element?: string;
  readonly aux?: readonly Float32Array[];
}

/**
 * Statements folding `v` into `acc` for `op`. max/min start from the first element (`seen`) rather than from an
 * infinite identity, which WGSL cannot write as a literal; a NaN wins and stays (`done`), as torch's max/min
 * propagate it (v != v only holds for NaN).
 */
function fold(op: LineOp): string {
  if (op === 'sum') return 'acc += v;';
  const better = op === 'max' ? 'v > acc' : 'v < acc';
  return `if (done == 0.0) { if (v != v) { acc = v; done = 1.0; } else if (seen == 0.0 || ${better}) { acc = v; seen = 1.0; } }`;
}

/**
 * The per-line `op` of `x` seen as (outer, size, inner), mapped through `spec.element` on the first pass.
 * Resolves with (outer, inner) values.
 */
export function lineReduce(run: KernelRunner, x: Float32Array, layout: AxisLayout, spec: LineReduce): Maybe<Float32Array> {
  const { outer, size, inner } = layout;
  const chunks = size > LONG_LINE ? Math.ceil(size / CHUNK) : 1;
  const span = chunks === 1 ? size : CHUNK;
  const aux = spec.aux ?? [];
  const element = spec.element ?? 'v';
  const body = [
    decompose('i', [outer, chunks, inner], 'p'),
    `const ln = p0 * ${f(inner)} + p2;`,
    `const base = p0 * ${f(size * inner)} + p2;`,
    `const start = p1 * ${f(span)};`,
    'let acc = 0.0;',
    'let seen = 0.0;',
    'let done = 0.0;',
    `for (let s = 0; s < ${int(span)}; s++) {`,
    `  const t = start + s;`,
    chunks === 1 ? '  {' : `  if (t < ${f(size)}) {`,
    `    const x0 = x[base + t * ${f(inner)}];`,
    `    const v = ${element.replace(/\bv\b/g, 'x0')};`,
    `    ${fold(spec.op)}`,
    '  }',
    '}',
    'return acc;',
  ].join('\n');
  const args = ['x', ...aux.map((_, k) => `aux${k}`)];
  const partial = run.run({
    kernel: spec.kernel,
    source: kernelSource(args, body),
    size: outer * chunks * inner,
    args: [x, ...aux],
  });
  if (chunks === 1) return partial;
  return andThen(partial, (p) => lineReduce(run, p, { outer, size: chunks, inner }, { kernel: spec.kernel, op: spec.op }));
}

/**
 * argmax / argmin along the middle axis: the index of the first NaN if there is one, else of the first extreme.
 * Long lines are cut into chunks; each chunk reports its best global index, and a second pass compares the
 * chunks' winners in order, so the first occurrence still wins.
 */
export function lineArg(run: KernelRunner, x: Float32Array, layout: AxisLayout, op: 'argmax' | 'argmin'): Maybe<Float32Array> {
  const { outer, size, inner } = layout;
  const chunks = size > LONG_LINE ? Math.ceil(size / CHUNK) : 1;
  const span = chunks === 1 ? size : CHUNK;
  const better = op === 'argmax' ? 'v > best' : 'v < best';
  const compare = [
    `    if (found == 0.0) {`,
    `      if (v != v) { best = v; idx = t; found = 1.0; }`,
    `      else if (seen == 0.0 || ${better}) { best = v; idx = t; seen = 1.0; }`,
    `    }`,
  ].join('\n');
  const first = [
    decompose('i', [outer, chunks, inner], 'p'),
    `const base = p0 * ${f(size * inner)} + p2;`,
    `const start = p1 * ${f(span)};`,
    'let best = 0.0;',
    'let idx = 0.0;',
    'let seen = 0.0;',
    'let found = 0.0;',
    `for (let s = 0; s < ${int(span)}; s++) {`,
    '  const t = start + s;',
    chunks === 1 ? '  {' : `  if (t < ${f(size)}) {`,
    `    const v = x[base + t * ${f(inner)}];`,
    compare,
    '  }',
    '}',
    'return idx;',
  ].join('\n');
  const partial = run.run({ kernel: 'reduce', source: kernelSource(['x'], first), size: outer * chunks * inner, args: [x] });
  if (chunks === 1) return partial;
  // Second pass over each line's chunk winners, in chunk order.
  const second = [
    decompose('i', [outer, inner], 'p'),
    `const base = p0 * ${f(size * inner)} + p1;`,
    `const wbase = p0 * ${f(chunks * inner)} + p1;`,
    'let best = 0.0;',
    'let idx = 0.0;',
    'let seen = 0.0;',
    'let found = 0.0;',
    `for (let s = 0; s < ${int(chunks)}; s++) {`,
    `  const t = w[wbase + s * ${f(inner)}];`,
    '  {',
    `    const v = x[base + t * ${f(inner)}];`,
    compare,
    '  }',
    '}',
    'return idx;',
  ].join('\n');
  return andThen(partial, (w) =>
    run.run({ kernel: 'reduce', source: kernelSource(['x', 'w'], second), size: outer * inner, args: [x, w] }),
  );
}
