import type { ScanParams } from '../../types.js';
import { allOf, andThen, type Maybe } from '../async.js';
import type { KernelRunner } from '../runner.js';
import { decompose, f, idiv, int, kernelSource } from '../source.js';

/**
 * Scans along the middle axis of (outer, size, inner): the inclusive cumulative sum, and the first-order linear
 * recurrence h[t] = a[t] h[t-1] + b[t] that SSMs and causal linear attention need.
 *
 * Each line is cut into SCAN_CHUNK-long chunks, giving three passes:
 * 1. one thread per chunk summarises it: its total, or for the recurrence the affine map (A, B) with
 *    h_out = A h_in + B;
 * 2. the same scan, run recursively over those summaries, gives the state at the end of every chunk;
 * 3. one thread per element starts from the state entering its chunk and walks the chunk up to itself.
 * Every thread does at most SCAN_CHUNK steps whatever the line length. A line no longer than one chunk is pass 3
 * alone. With `reverse` the scan runs from the end of the line, chunks included.
 */
export const SCAN_CHUNK = 256;

interface Geometry {
  readonly chunk: number;
  readonly chunks: number;
}

function geometry(size: number): Geometry {
  return size <= SCAN_CHUNK ? { chunk: size, chunks: 1 } : { chunk: SCAN_CHUNK, chunks: Math.ceil(size / SCAN_CHUNK) };
}

/**
 * The loop over chunk `c`'s positions in scan order (forward: from its start; reverse: from its end), keeping
 * `s` inside the line and, when `upTo`, up to the element `p1` itself.
 */
function chunkLoop(p: ScanParams, g: Geometry, upTo: boolean, step: string): string {
  const s = p.reverse ? `c * ${f(g.chunk)} + ${f(g.chunk - 1)} - k` : `c * ${f(g.chunk)} + k`;
  const inLine = p.reverse ? (upTo ? `s >= p1 && s < ${f(p.size)}` : `s < ${f(p.size)}`) : upTo ? 's <= p1' : `s < ${f(p.size)}`;
  return [
    `for (let k = 0; k < ${int(g.chunk)}; k++) {`,
    `  const s = ${s};`,
    `  if (${inLine}) {`,
    `    const at = base + s * ${f(p.inner)};`,
    `    ${step}`,
    '  }',
    '}',
  ].join('\n');
}

/** Statements shared by the per-element pass: coordinates, the chunk c, the line's base, the summary index ci. */
function elementHeader(p: ScanParams, g: Geometry): string {
  return [
    decompose('i', [p.outer, p.size, p.inner], 'p'),
    `const c = ${idiv('p1', g.chunk)};`,
    `const base = p0 * ${f(p.size * p.inner)} + p2;`,
    `const ci = (p0 * ${f(g.chunks)} + c) * ${f(p.inner)} + p2;`,
  ].join('\n');
}

/** Statements shared by the per-chunk pass over (outer, chunks, inner). */
function chunkHeader(p: ScanParams, g: Geometry): string {
  return [decompose('i', [p.outer, g.chunks, p.inner], 'q'), 'const c = q1;', `const base = q0 * ${f(p.size * p.inner)} + q2;`].join('\n');
}

/** The summary of the chunk before this one in scan order: `ci - inner` forward, `ci + inner` in reverse. */
function previousChunk(p: ScanParams, g: Geometry): { exists: string; at: string } {
  return p.reverse
    ? { exists: `c < ${f(g.chunks - 1)}`, at: `ci + ${f(p.inner)}` }
    : { exists: 'c > 0.0', at: `ci - ${f(p.inner)}` };
}

export function cumsumKernel(run: KernelRunner, x: Float32Array, p: ScanParams): Maybe<Float32Array> {
  const total = p.outer * p.size * p.inner;
  if (total === 0) return new Float32Array(0);
  const g = geometry(p.size);
  const element = (ends: Float32Array | null): Maybe<Float32Array> => {
    const prev = previousChunk(p, g);
    const body = [
      elementHeader(p, g),
      'let acc = 0.0;',
      ends ? `if (${prev.exists}) { acc = ends[${prev.at}]; }` : '',
      chunkLoop(p, g, true, 'acc += x[at];'),
      'return acc;',
    ].join('\n');
    return run.run({
      kernel: 'cumsum',
      source: kernelSource(ends ? ['x', 'ends'] : ['x'], body),
      size: total,
      args: ends ? [x, ends] : [x],
    });
  };
  if (g.chunks === 1) return element(null);
  const totalsBody = [chunkHeader(p, g), 'let acc = 0.0;', chunkLoop(p, g, false, 'acc += x[at];'), 'return acc;'].join('\n');
  const totals = run.run({ kernel: 'cumsum', source: kernelSource(['x'], totalsBody), size: p.outer * g.chunks * p.inner, args: [x] });
  // The running total at the end of each chunk, in scan order, is the cumsum of the chunk totals.
  const ends = andThen(totals, (t) => cumsumKernel(run, t, { ...p, size: g.chunks }));
  return andThen(ends, element);
}

export function linearRecurrenceKernel(
  run: KernelRunner,
  a: Float32Array,
  b: Float32Array,
  h0: Float32Array | null,
  p: ScanParams,
): Maybe<Float32Array> {
  const total = p.outer * p.size * p.inner;
  if (total === 0) return new Float32Array(0);
  const g = geometry(p.size);
  const start = h0 ?? new Float32Array(p.outer * p.inner);
  const element = (ends: Float32Array | null): Maybe<Float32Array> => {
    const prev = previousChunk(p, g);
    const body = [
      elementHeader(p, g),
      `let h = h0[p0 * ${f(p.inner)} + p2];`,
      ends ? `if (${prev.exists}) { h = ends[${prev.at}]; }` : '',
      chunkLoop(p, g, true, 'h = a[at] * h + b[at];'),
      'return h;',
    ].join('\n');
    const args = ends ? ['a', 'b', 'h0', 'ends'] : ['a', 'b', 'h0'];
    return run.run({
      kernel: 'linearRecurrence',
      source: kernelSource(args, body),
      size: total,
      args: ends ? [a, b, start, ends] : [a, b, start],
    });
  };
  if (g.chunks === 1) return element(null);
  // Each chunk as the affine map h -> A h + B it applies, composed in scan order.
  const summary = (which: 'A' | 'B') =>
    run.run({
      kernel: 'linearRecurrence',
      source: kernelSource(
        ['a', 'b'],
        [chunkHeader(p, g), 'let A = 1.0;', 'let B = 0.0;', chunkLoop(p, g, false, 'A = a[at] * A;\n    B = a[at] * B + b[at];'), `return ${which};`].join('\n'),
      ),
      size: p.outer * g.chunks * p.inner,
      args: [a, b],
    });
  // The state leaving each chunk is the same recurrence over the chunk maps, started from h0.
  const ends = andThen(allOf([summary('A'), summary('B')]), ([A, B]) => linearRecurrenceKernel(run, A, B, start, { ...p, size: g.chunks }));
  return andThen(ends, element);
}
