/**
 * Per-op elementwise loops. One shared loop that calls the op's scalar function through a variable sees every
 * op's function at the same call site; V8 then cannot inline it (the site is megamorphic), and each element pays
 * a full call: about 10x slower on large tensors. Compiling one loop per op from its own source gives each op a
 * call site of its own that sees one function, so V8 inlines it. Where code generation is not allowed (a page
 * with a strict Content-Security-Policy), the shared loops run instead: same results, slower.
 */
type Num = ArrayLike<number> & { [i: number]: number };

/** out[i] = fn(src[off + i]) for i < n. */
export type UnaryLoop = (fn: (x: number) => number, src: ArrayLike<number>, off: number, out: Num, n: number) => void;

/** One (rows, cols) block of a strided view: out[o + r * cols + c] = fn(src[s0 + r * rs + c * cs]). */
export type UnaryBlock = (fn: (x: number) => number, src: ArrayLike<number>, s0: number, rs: number, cs: number, out: Num, o: number, rows: number, cols: number) => void;

/** The layouts a binary op meets: both contiguous, one side a single broadcast value, or any strides (by blocks). */
export interface BinaryLoops {
  /** out[i] = fn(a[a0 + i], b[b0 + i]) */
  contiguous(fn: (x: number, y: number) => number, a: ArrayLike<number>, a0: number, b: ArrayLike<number>, b0: number, out: Num, n: number): void;
  /** out[i] = fn(a[a0 + i], y) */
  scalarB(fn: (x: number, y: number) => number, a: ArrayLike<number>, a0: number, y: number, out: Num, n: number): void;
  /** out[i] = fn(x, b[b0 + i]) */
  scalarA(fn: (x: number, y: number) => number, x: number, b: ArrayLike<number>, b0: number, out: Num, n: number): void;
  /** One (rows, cols) block: out[o + r * cols + c] = fn(a[a0 + r * ra + c * ca], b[b0 + r * rb + c * cb]) */
  block(
    fn: (x: number, y: number) => number,
    a: ArrayLike<number>, a0: number, ra: number, ca: number,
    b: ArrayLike<number>, b0: number, rb: number, cb: number,
    out: Num, o: number, rows: number, cols: number,
  ): void;
}

const UNARY_BODY = 'for (let i = 0; i < n; i++) out[i] = fn(src[off + i]);';
const UNARY_BLOCK_PARAMS = 'fn, src, s0, rs, cs, out, o, rows, cols';
const UNARY_BLOCK_BODY =
  'for (let r = 0; r < rows; r++) { let i = s0 + r * rs; for (let c = 0; c < cols; c++, i += cs) out[o++] = fn(src[i]); }';
const BINARY_BODIES = {
  contiguous: ['fn, a, a0, b, b0, out, n', 'for (let i = 0; i < n; i++) out[i] = fn(a[a0 + i], b[b0 + i]);'],
  scalarB: ['fn, a, a0, y, out, n', 'for (let i = 0; i < n; i++) out[i] = fn(a[a0 + i], y);'],
  scalarA: ['fn, x, b, b0, out, n', 'for (let i = 0; i < n; i++) out[i] = fn(x, b[b0 + i]);'],
  block: [
    'fn, a, a0, ra, ca, b, b0, rb, cb, out, o, rows, cols',
    'for (let r = 0; r < rows; r++) { let i = a0 + r * ra, j = b0 + r * rb; ' +
      'for (let c = 0; c < cols; c++, i += ca, j += cb) out[o++] = fn(a[i], b[j]); }',
  ],
} as const;

const sharedUnary: UnaryLoop = (fn, src, off, out, n) => {
  for (let i = 0; i < n; i++) out[i] = fn(src[off + i]);
};
const sharedUnaryBlock: UnaryBlock = (fn, src, s0, rs, cs, out, o, rows, cols) => {
  for (let r = 0; r < rows; r++) {
    let i = s0 + r * rs;
    for (let c = 0; c < cols; c++, i += cs) out[o++] = fn(src[i]);
  }
};
const sharedBinary: BinaryLoops = {
  contiguous: (fn, a, a0, b, b0, out, n) => {
    for (let i = 0; i < n; i++) out[i] = fn(a[a0 + i], b[b0 + i]);
  },
  scalarB: (fn, a, a0, y, out, n) => {
    for (let i = 0; i < n; i++) out[i] = fn(a[a0 + i], y);
  },
  scalarA: (fn, x, b, b0, out, n) => {
    for (let i = 0; i < n; i++) out[i] = fn(x, b[b0 + i]);
  },
  block: (fn, a, a0, ra, ca, b, b0, rb, cb, out, o, rows, cols) => {
    for (let r = 0; r < rows; r++) {
      let i = a0 + r * ra;
      let j = b0 + r * rb;
      for (let c = 0; c < cols; c++, i += ca, j += cb) out[o++] = fn(a[i], b[j]);
    }
  },
};

function compile<T>(params: string, body: string, fallback: T): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    return new Function(...params.split(', '), body) as T;
  } catch {
    return fallback;
  }
}

const unaryLoops = new Map<string, UnaryLoop>();
const unaryBlocks = new Map<string, UnaryBlock>();
const binaryLoops = new Map<string, BinaryLoops>();

/** The loop of one unary op (compiled on first use, then reused). */
export function unaryLoopFor(key: string): UnaryLoop {
  let loop = unaryLoops.get(key);
  if (!loop) {
    loop = compile<UnaryLoop>('fn, src, off, out, n', UNARY_BODY, sharedUnary);
    unaryLoops.set(key, loop);
  }
  return loop;
}

/** The strided-block loop of one unary op (compiled on first use, then reused). */
export function unaryBlockFor(key: string): UnaryBlock {
  let loop = unaryBlocks.get(key);
  if (!loop) {
    loop = compile<UnaryBlock>(UNARY_BLOCK_PARAMS, UNARY_BLOCK_BODY, sharedUnaryBlock);
    unaryBlocks.set(key, loop);
  }
  return loop;
}

/** The loops of one binary op (compiled on first use, then reused). */
export function binaryLoopsFor(key: string): BinaryLoops {
  let loops = binaryLoops.get(key);
  if (!loops) {
    loops = {
      contiguous: compile(BINARY_BODIES.contiguous[0], BINARY_BODIES.contiguous[1], sharedBinary.contiguous),
      scalarB: compile(BINARY_BODIES.scalarB[0], BINARY_BODIES.scalarB[1], sharedBinary.scalarB),
      scalarA: compile(BINARY_BODIES.scalarA[0], BINARY_BODIES.scalarA[1], sharedBinary.scalarA),
      block: compile(BINARY_BODIES.block[0], BINARY_BODIES.block[1], sharedBinary.block),
    };
    binaryLoops.set(key, loops);
  }
  return loops;
}
