import fc from 'fast-check';
import type { AxisLayout, DType, ReduceOp } from '@formers/gpu-kernels';
import type { ConformanceCase } from './case-types.js';
import { createRng, intData, realData, type Rng } from './rng.js';

const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'max', 'min', 'argmax', 'argmin'];

interface Labeled<T> {
  readonly label: string;
  readonly tags: readonly string[];
  readonly value: T;
}

/** Random (outer, size, inner) layouts plus the edges: a length-1 axis, an empty axis, empty outer, and a large axis. */
export function axisLayouts(seed: number, count: number, large: AxisLayout | null): Labeled<AxisLayout>[] {
  const random = fc.sample(
    fc.record({ outer: fc.integer({ min: 1, max: 5 }), size: fc.integer({ min: 1, max: 40 }), inner: fc.integer({ min: 1, max: 5 }) }),
    { seed, numRuns: count },
  );
  const out: Labeled<AxisLayout>[] = random.map((value, i) => ({ label: `random-${i}`, tags: ['random'], value }));
  out.push({ label: 'size-1', tags: ['edge'], value: { outer: 3, size: 1, inner: 2 } });
  out.push({ label: 'inner-1', tags: ['edge'], value: { outer: 1, size: 7, inner: 1 } });
  out.push({ label: 'empty-outer', tags: ['edge', 'empty'], value: { outer: 0, size: 5, inner: 3 } });
  if (large) out.push({ label: 'large', tags: ['large'], value: large });
  return out;
}

function total(l: AxisLayout): number {
  return l.outer * l.size * l.inner;
}

export function reduceCases(seed: number, dtypes: readonly DType[]): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const rng = createRng(seed + 10);
  for (const dtype of dtypes) {
    for (const op of REDUCE_OPS) {
      const layouts = axisLayouts(seed + 11, 4, op === 'sum' || op === 'argmax' ? { outer: 1, size: 100_000, inner: 1 } : null);
      if (op === 'sum') layouts.push({ label: 'empty-axis', tags: ['edge', 'empty'], value: { outer: 2, size: 0, inner: 3 } });
      for (const l of layouts) {
        const isArg = op === 'argmax' || op === 'argmin';
        // Integers make ties, so first-occurrence tie breaking is checked; reals check the float path.
        const variants: [string, (n: number) => ReturnType<typeof realData>, boolean][] =
          dtype === 'int32'
            ? [['int', (n) => intData(rng, dtype, n, -5, 5), false]]
            : [
                ['real', (n) => realData(rng, dtype, n, -1, 1), op === 'sum'],
                ['int-valued', (n) => intData(rng, dtype, n, -8, 8), false],
              ];
        for (const [variant, fill, absScale] of variants) {
          const layout = l.value;
          cases.push({
            id: `reduce/${op}/${dtype}/${l.label}/${variant}`,
            kernel: 'reduce',
            dtype,
            tags: [...l.tags, variant],
            inputs: [{ data: fill(total(layout)), dtype }],
            outputs: [{ dtype: isArg ? 'int32' : dtype, size: layout.outer * layout.inner }],
            scale: absScale ? 'abs' : 'none',
            invoke: async (b, [x]) => [await b.reduce(op, x, dtype, layout)],
          });
        }
      }
    }
  }
  return cases;
}

export function softmaxCases(seed: number, dtypes: readonly DType[]): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const rng = createRng(seed + 20);
  for (const dtype of dtypes.filter((d) => d !== 'int32')) {
    for (const log of [false, true]) {
      const layouts = axisLayouts(seed + 21, 4, { outer: 2, size: 50_000, inner: 1 });
      for (const l of layouts) {
        const layout = l.value;
        cases.push(softmaxCase(`${l.label}`, l.tags, dtype, log, layout, realData(rng, dtype, total(layout), -4, 4)));
      }
      // Large logits: only a max-shifted implementation stays finite (exp(80) overflows float32).
      const big: AxisLayout = { outer: 3, size: 17, inner: 2 };
      cases.push(softmaxCase('large-logits', ['stability'], dtype, log, big, realData(rng, dtype, total(big), -80, 80)));
    }
  }
  return cases;
}

function softmaxCase(
  label: string,
  tags: readonly string[],
  dtype: DType,
  log: boolean,
  layout: AxisLayout,
  data: ReturnType<typeof realData>,
): ConformanceCase {
  return {
    id: `softmax/${log ? 'log' : 'softmax'}/${dtype}/${label}`,
    kernel: 'softmax',
    dtype,
    tags,
    inputs: [{ data, dtype }],
    outputs: [{ dtype, size: total(layout) }],
    scale: 'none',
    invoke: async (b, [x]) => [await b.softmax(x, dtype, layout, log)],
  };
}

export function normCases(seed: number, dtypes: readonly DType[]): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const rng = createRng(seed + 30);
  const shapes = fc.sample(fc.record({ rows: fc.integer({ min: 1, max: 6 }), cols: fc.integer({ min: 1, max: 70 }) }), {
    seed: seed + 31,
    numRuns: 3,
  });
  const all: Labeled<{ rows: number; cols: number }>[] = [
    ...shapes.map((value, i) => ({ label: `random-${i}`, tags: ['random'], value })),
    { label: 'cols-1', tags: ['edge'], value: { rows: 3, cols: 1 } },
    { label: 'empty', tags: ['edge', 'empty'], value: { rows: 0, cols: 8 } },
    { label: 'large', tags: ['large'], value: { rows: 64, cols: 1024 } },
  ];
  for (const dtype of dtypes.filter((d) => d !== 'int32')) {
    for (const { label, tags, value } of all) {
      const { rows, cols } = value;
      const p = { rows, cols, eps: 1e-5 };
      for (const affine of [false, true]) {
        // An offset mean checks that the variance is not computed as E[x^2] - E[x]^2 in float32.
        const x = realData(rng, dtype, rows * cols, 2, 4);
        const w = realData(rng, dtype, cols, 0.5, 1.5);
        const bias = realData(rng, dtype, cols, -1, 1);
        const suffix = affine ? 'affine' : 'plain';
        cases.push({
          id: `layerNorm/${dtype}/${label}/${suffix}`,
          kernel: 'layerNorm',
          dtype,
          tags,
          inputs: affine ? [{ data: x, dtype }, { data: w, dtype }, { data: bias, dtype }] : [{ data: x, dtype }],
          outputs: [
            { dtype, size: rows * cols },
            { dtype, size: rows },
            { dtype, size: rows },
          ],
          scale: 'none',
          invoke: async (b, [hx, hw, hb]) => {
            const r = await b.layerNorm(hx, affine ? hw : null, affine ? hb : null, dtype, p);
            return [r.out, r.mean, r.rstd];
          },
        });
        cases.push({
          id: `rmsNorm/${dtype}/${label}/${suffix}`,
          kernel: 'rmsNorm',
          dtype,
          tags,
          inputs: affine ? [{ data: x, dtype }, { data: w, dtype }] : [{ data: x, dtype }],
          outputs: [
            { dtype, size: rows * cols },
            { dtype, size: rows },
          ],
          scale: 'none',
          invoke: async (b, [hx, hw]) => {
            const r = await b.rmsNorm(hx, affine ? hw : null, dtype, p);
            return [r.out, r.rstd];
          },
        });
      }
    }
  }
  return cases;
}

export function scanCases(seed: number, dtypes: readonly DType[]): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const rng = createRng(seed + 40);
  for (const dtype of dtypes) {
    for (const reverse of [false, true]) {
      const dir = reverse ? 'reverse' : 'forward';
      const layouts = axisLayouts(seed + 41, 3, { outer: 1, size: 100_000, inner: 1 });
      layouts.push({ label: 'empty-axis', tags: ['edge', 'empty'], value: { outer: 2, size: 0, inner: 3 } });
      for (const l of layouts) {
        const p = { ...l.value, reverse };
        const variants: [string, (n: number) => ReturnType<typeof realData>, boolean][] =
          dtype === 'int32'
            ? [['int', (n) => intData(rng, dtype, n, -100, 100), false]]
            : [
                ['real', (n) => realData(rng, dtype, n, -1, 1), true],
                ['int-valued', (n) => intData(rng, dtype, n, -8, 8), false],
              ];
        for (const [variant, fill, absScale] of variants) {
          cases.push({
            id: `cumsum/${dir}/${dtype}/${l.label}/${variant}`,
            kernel: 'cumsum',
            dtype,
            tags: [...l.tags, variant],
            inputs: [{ data: fill(total(p)), dtype }],
            outputs: [{ dtype, size: total(p) }],
            scale: absScale ? 'abs' : 'none',
            invoke: async (b, [x]) => [await b.cumsum(x, dtype, p)],
          });
        }
      }
      if (dtype === 'int32') continue;
      // 1e5 elements as many medium lines, and one long line (a chunked parallel scan must carry across chunks).
      const recurrenceLayouts = axisLayouts(seed + 42, 3, { outer: 4, size: 250, inner: 100 });
      recurrenceLayouts.push({ label: 'long', tags: ['large'], value: { outer: 1, size: 20_000, inner: 2 } });
      recurrenceLayouts.push({ label: 'empty-axis', tags: ['edge', 'empty'], value: { outer: 2, size: 0, inner: 3 } });
      for (const l of recurrenceLayouts) {
        const p = { ...l.value, reverse };
        for (const withH0 of [false, true]) {
          // |a| < 1 keeps the recurrence contractive, as a discretised stable SSM is.
          const a = realData(rng, dtype, total(p), -0.99, 0.99);
          const bb = realData(rng, dtype, total(p), -1, 1);
          const h0 = realData(rng, dtype, p.outer * p.inner, -1, 1);
          cases.push({
            id: `linearRecurrence/${dir}/${dtype}/${l.label}/${withH0 ? 'h0' : 'zero'}`,
            kernel: 'linearRecurrence',
            dtype,
            tags: withH0 ? [...l.tags, 'h0'] : l.tags,
            inputs: withH0
              ? [{ data: a, dtype }, { data: bb, dtype }, { data: h0, dtype }]
              : [{ data: a, dtype }, { data: bb, dtype }],
            outputs: [{ dtype, size: total(p) }],
            scale: 'abs',
            invoke: async (b, [ha, hb, hh]) => [await b.linearRecurrence(ha, hb, withH0 ? hh : null, dtype, p)],
          });
        }
      }
    }
  }
  return cases;
}
