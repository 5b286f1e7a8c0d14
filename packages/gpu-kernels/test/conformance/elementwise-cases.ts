import fc from 'fast-check';
import type { BinaryOp, DType, UnaryOp } from '@formers/gpu-kernels';
import type { ConformanceCase, HostInput, ViewSpec } from './case-types.js';
import { viewOf } from './case-types.js';
import { LAYOUT_KINDS, makeLayout, sizeOfShape, type LayoutKind } from './layouts.js';
import { createRng, intData, realData, typedArray, type Rng } from './rng.js';

const UNARY_OPS: readonly UnaryOp[] = [
  'identity', 'neg', 'abs', 'sign', 'exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'reciprocal', 'square',
  'sin', 'cos', 'tanh', 'sigmoid', 'erf', 'relu', 'gelu', 'gelu_tanh', 'silu', 'elu', 'softplus', 'floor', 'ceil', 'round',
];
const INT_UNARY_OPS: readonly UnaryOp[] = ['identity', 'neg', 'abs', 'sign', 'square', 'relu'];
const BINARY_OPS: readonly BinaryOp[] = [
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'atan2', 'eq', 'ne', 'lt', 'le', 'gt', 'ge',
];
const INT_BINARY_OPS: readonly BinaryOp[] = [
  'add', 'sub', 'mul', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge',
];
/** Only a few ops get the 1e5-element case: it checks indexing at scale, not each op's math again. */
const LARGE_UNARY_OPS: readonly UnaryOp[] = ['identity', 'exp', 'gelu'];
const LARGE = 100_000;

/** Random logical shapes, rank 1 to 4, extents 1 to 6, drawn by fast-check from a fixed seed. */
export function sampleShapes(seed: number, count: number, maxRank = 4, maxExtent = 6): number[][] {
  return fc.sample(fc.array(fc.integer({ min: 1, max: maxExtent }), { minLength: 1, maxLength: maxRank }), {
    seed,
    numRuns: count,
  });
}

/** Inputs inside each op's domain, so every backend is compared on finite, well-conditioned values. */
function unaryInput(rng: Rng, op: UnaryOp, dtype: DType, size: number): ReturnType<typeof typedArray> {
  if (dtype === 'int32') return intData(rng, dtype, size, -50, 50);
  switch (op) {
    case 'log':
    case 'sqrt':
    case 'rsqrt':
      return realData(rng, dtype, size, 0.05, 4);
    case 'log1p':
      return realData(rng, dtype, size, -0.9, 3);
    case 'reciprocal': {
      const x = realData(rng, dtype, size, 0.1, 3);
      for (let i = 0; i < size; i++) if (rng.next() < 0.5) x[i] = -x[i];
      return x;
    }
    case 'exp':
    case 'expm1':
      return realData(rng, dtype, size, -5, 5);
    case 'softplus':
      return realData(rng, dtype, size, -20, 20);
    case 'floor':
    case 'ceil':
    case 'round': {
      // Exact halves check round-half-to-even; the rest are arbitrary reals.
      const x = realData(rng, dtype, size, -10, 10);
      for (let i = 0; i < size; i += 2) x[i] = rng.int(-20, 20) / 2;
      return x;
    }
    default:
      return realData(rng, dtype, size, -6, 6);
  }
}

function binaryInputs(rng: Rng, op: BinaryOp, dtype: DType, sizeA: number, sizeB: number) {
  if (dtype === 'int32') {
    const lo = op === 'mul' ? -1000 : ['eq', 'ne', 'lt', 'le', 'gt', 'ge'].includes(op) ? -2 : -100000;
    const hi = -lo;
    return [intData(rng, dtype, sizeA, lo, hi), intData(rng, dtype, sizeB, lo, hi)];
  }
  switch (op) {
    case 'div': {
      const b = realData(rng, dtype, sizeB, 0.2, 2);
      for (let i = 0; i < sizeB; i++) if (rng.next() < 0.5) b[i] = -b[i];
      return [realData(rng, dtype, sizeA, -3, 3), b];
    }
    case 'pow':
      return [realData(rng, dtype, sizeA, 0.1, 3), realData(rng, dtype, sizeB, -2, 2)];
    case 'eq':
    case 'ne':
    case 'lt':
    case 'le':
    case 'gt':
    case 'ge':
    case 'maximum':
    case 'minimum':
      // Few distinct values, so ties (where eq/le/ge differ from lt/gt) actually occur.
      return [intData(rng, dtype, sizeA, -2, 2), intData(rng, dtype, sizeB, -2, 2)];
    default:
      return [realData(rng, dtype, sizeA, -3, 3), realData(rng, dtype, sizeB, -3, 3)];
  }
}

interface ViewCaseShape {
  readonly label: string;
  readonly tags: readonly string[];
  readonly shape: readonly number[];
  readonly kind: LayoutKind;
}

/** The shapes and layouts every elementwise kernel runs on: random, each strided layout, and the edges. */
function elementwiseShapes(seed: number, large: boolean): ViewCaseShape[] {
  const random = sampleShapes(seed, 2 + LAYOUT_KINDS.length);
  const cases: ViewCaseShape[] = [
    { label: 'random-0', tags: ['random'], shape: random[0], kind: 'contiguous' },
    { label: 'random-1', tags: ['random'], shape: random[1], kind: 'contiguous' },
    ...LAYOUT_KINDS.filter((k) => k !== 'contiguous').map((kind, i) => ({
      label: kind,
      tags: ['random', 'strided', kind],
      // At least two dims of length >= 2, so a transpose or flip actually reorders elements.
      shape: [Math.max(2, random[2 + i][0]), Math.max(2, random[2 + i][1] ?? 3), ...random[2 + i].slice(2)],
      kind,
    })),
    { label: 'size-1', tags: ['edge'], shape: [1], kind: 'contiguous' },
    { label: 'scalar', tags: ['edge'], shape: [], kind: 'contiguous' },
    { label: 'empty', tags: ['edge', 'empty'], shape: [3, 0, 2], kind: 'contiguous' },
  ];
  if (large) cases.push({ label: 'large', tags: ['large'], shape: [LARGE], kind: 'contiguous' });
  return cases;
}

function viewInput(
  shape: readonly number[],
  kind: LayoutKind,
  dtype: DType,
  fill: (size: number) => ReturnType<typeof typedArray>,
  broadcast: readonly number[] = [],
): { input: HostInput; spec: ViewSpec } {
  const layout = makeLayout(kind, shape, broadcast);
  return { input: { data: fill(layout.baseSize), dtype }, spec: { ...layout, shape, dtype } };
}

export function unaryCases(seed: number, dtypes: readonly DType[]): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const rng = createRng(seed);
  for (const dtype of dtypes) {
    const ops = dtype === 'int32' ? INT_UNARY_OPS : UNARY_OPS;
    ops.forEach((op, o) => {
      for (const c of elementwiseShapes(seed + o, dtype !== 'int32' && LARGE_UNARY_OPS.includes(op))) {
        const { input, spec } = viewInput(c.shape, c.kind, dtype, (n) => unaryInput(rng, op, dtype, n));
        const size = sizeOfShape(c.shape);
        cases.push({
          id: `unary/${op}/${dtype}/${c.label}`,
          kernel: 'unary',
          dtype,
          tags: c.tags,
          inputs: [input],
          outputs: [{ dtype, size }],
          scale: 'none',
          invoke: async (b, [x]) => [await b.unary(op, viewOf(x, spec), dtype)],
        });
      }
    });
  }
  // Casts through `identity`: float to int32 truncates toward zero; int32 to float is exact.
  const casts: [DType, DType][] = [
    ['float32', 'int32'],
    ['float64', 'int32'],
    ['int32', 'float32'],
    ['int32', 'float64'],
    ['float64', 'float32'],
    ['float32', 'float64'],
  ];
  for (const [from, to] of casts) {
    if (!dtypes.includes(from) || !dtypes.includes(to)) continue;
    const shape = [3, 5];
    const { input, spec } = viewInput(shape, 'transposed', from, (n) =>
      from === 'int32' ? intData(rng, from, n, -1000, 1000) : realData(rng, from, n, -50, 50),
    );
    cases.push({
      id: `unary/identity/${from}->${to}/cast`,
      kernel: 'unary',
      dtype: to,
      tags: ['cast', 'strided'],
      inputs: [input],
      outputs: [{ dtype: to, size: 15 }],
      scale: 'none',
      invoke: async (b, [x]) => [await b.unary('identity', viewOf(x, spec), to)],
    });
  }
  return cases;
}

/** Broadcast masks for a pair of operands of `shape`: which dims each operand holds at extent 1. */
function broadcastDims(rng: Rng, rank: number): [number[], number[]] {
  const a: number[] = [];
  const b: number[] = [];
  for (let d = 0; d < rank; d++) {
    const r = rng.next();
    if (r < 0.3) a.push(d);
    else if (r < 0.6) b.push(d);
  }
  return [a, b];
}

export function binaryCases(seed: number, dtypes: readonly DType[]): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const rng = createRng(seed + 1);
  for (const dtype of dtypes) {
    const ops = dtype === 'int32' ? INT_BINARY_OPS : BINARY_OPS;
    ops.forEach((op, o) => {
      const shapes = elementwiseShapes(seed + 100 + o, op === 'add');
      const random = sampleShapes(seed + 200 + o, 2, 4, 5);
      const withBroadcast = [
        ...shapes.map((s) => ({ ...s, bcast: [[], []] as [number[], number[]], kindB: s.kind })),
        // a and b broadcast against each other (out [.., ..] from a [.., 1] and b [1, ..]), over mixed layouts.
        ...random.map((shape, i) => ({
          label: `broadcast-${i}`,
          tags: ['broadcast', 'strided'],
          shape: shape.map((d) => Math.max(2, d)),
          kind: LAYOUT_KINDS[(i + o) % LAYOUT_KINDS.length],
          kindB: LAYOUT_KINDS[(i + o + 2) % LAYOUT_KINDS.length],
          bcast: broadcastDims(rng, shape.length),
        })),
      ];
      for (const c of withBroadcast) {
        const fillA = (n: number) => binaryInputs(rng, op, dtype, n, 0)[0];
        const fillB = (n: number) => binaryInputs(rng, op, dtype, 0, n)[1];
        const a = viewInput(c.shape, c.kind, dtype, fillA, c.bcast[0]);
        const b = viewInput(c.shape, c.kindB, dtype, fillB, c.bcast[1]);
        const shape = c.shape;
        cases.push({
          id: `binary/${op}/${dtype}/${c.label}`,
          kernel: 'binary',
          dtype,
          tags: c.tags,
          inputs: [a.input, b.input],
          outputs: [{ dtype, size: sizeOfShape(shape) }],
          scale: 'none',
          invoke: async (be, [ha, hb]) => [await be.binary(op, viewOf(ha, a.spec), viewOf(hb, b.spec), shape, dtype)],
        });
      }
    });
  }
  return cases;
}

export function whereCases(seed: number, dtypes: readonly DType[]): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const rng = createRng(seed + 2);
  for (const dtype of dtypes) {
    const shapes = elementwiseShapes(seed + 300, true);
    const random = sampleShapes(seed + 301, 2, 4, 5).map((shape, i) => ({
      label: `broadcast-${i}`,
      tags: ['broadcast', 'strided'],
      shape: shape.map((d) => Math.max(2, d)),
      kind: LAYOUT_KINDS[(i + 1) % LAYOUT_KINDS.length],
    }));
    for (const c of [...shapes, ...random]) {
      const [bcastA, bcastB] = c.label.startsWith('broadcast') ? broadcastDims(rng, c.shape.length) : [[], []];
      const cond = viewInput(c.shape, 'contiguous', dtype, (n) => intData(rng, dtype, n, 0, 1), bcastB);
      const a = viewInput(c.shape, c.kind, dtype, (n) => realOrInt(rng, dtype, n), bcastA);
      const b = viewInput(c.shape, 'flipped', dtype, (n) => realOrInt(rng, dtype, n));
      const shape = c.shape;
      cases.push({
        id: `where/${dtype}/${c.label}`,
        kernel: 'where',
        dtype,
        tags: c.tags,
        inputs: [{ ...cond.input, keep: true }, a.input, b.input],
        outputs: [{ dtype, size: sizeOfShape(shape) }],
        scale: 'none',
        invoke: async (be, [hc, ha, hb]) => [
          await be.where(viewOf(hc, cond.spec), viewOf(ha, a.spec), viewOf(hb, b.spec), shape, dtype),
        ],
      });
    }
  }
  if (dtypes.includes('int32') && dtypes.includes('float32')) {
    // A condition in int32 choosing between float32 values: a comparison result feeding a masked select.
    const shape = [4, 6];
    const cond = viewInput(shape, 'contiguous', 'int32', (n) => intData(rng, 'int32', n, 0, 1));
    const a = viewInput(shape, 'transposed', 'float32', (n) => realData(rng, 'float32', n));
    const b = viewInput(shape, 'contiguous', 'float32', (n) => realData(rng, 'float32', n), [0]);
    cases.push({
      id: 'where/float32/int32-cond',
      kernel: 'where',
      dtype: 'float32',
      tags: ['mixed-dtype', 'strided', 'broadcast'],
      inputs: [{ ...cond.input, keep: true }, a.input, b.input],
      outputs: [{ dtype: 'float32', size: 24 }],
      scale: 'none',
      invoke: async (be, [hc, ha, hb]) => [
        await be.where(viewOf(hc, cond.spec), viewOf(ha, a.spec), viewOf(hb, b.spec), shape, 'float32'),
      ],
    });
  }
  return cases;
}

function realOrInt(rng: Rng, dtype: DType, n: number) {
  return dtype === 'int32' ? intData(rng, dtype, n, -100, 100) : realData(rng, dtype, n, -3, 3);
}
