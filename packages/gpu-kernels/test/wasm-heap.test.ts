import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WasmHeap, sizeClass, RESIDENT_MIN_LENGTH } from '../src/wasm/wasm-heap.js';
import { F32Math } from '../src/wasm/f32-math.js';
import { GemmEngine } from '../src/wasm/gemm-engine.js';
import { createWasmBackend } from '../src/wasm/index.js';
import { createReferenceBackend } from '../src/reference/index.js';
import { xorshiftF32 } from './xorshift.js';

const rand = (n: number, seed: number) => xorshiftF32(n, seed, -2, 2);

describe('WasmHeap', () => {
  it('rounds requests up to size classes at most 25% apart', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 30 }), (bytes) => {
        const c = sizeClass(bytes);
        expect(c).toBeGreaterThanOrEqual(bytes);
        expect(c % 64).toBe(0);
        expect(c).toBeLessThanOrEqual(Math.max(64, bytes * 1.25 + 64));
      }),
    );
  });

  it('hands out views of its memory that do not overlap, reuses given-back blocks, and ignores foreign arrays', () => {
    const heap = new WasmHeap({ shared: true });
    const a = heap.alloc(5000)!;
    const b = heap.alloc(5000)!;
    expect(a.length).toBe(5000);
    expect(heap.addressOf(a)).toBe(a.byteOffset);
    expect(heap.capacityOf(a)).toBeGreaterThanOrEqual(5000);
    expect(a.byteOffset + heap.capacityOf(a) * 4 <= b.byteOffset || b.byteOffset + heap.capacityOf(b) * 4 <= a.byteOffset).toBe(true);
    const foreign = new Float32Array(5000);
    expect(heap.addressOf(foreign)).toBe(-1);
    expect(heap.capacityOf(foreign)).toBe(0);
    expect(heap.freeView(foreign)).toBe(false);
    // A subarray is in the memory (readable in place) but is not a block: nothing may be written past it.
    expect(heap.addressOf(a.subarray(10))).toBe(a.byteOffset + 40);
    expect(heap.capacityOf(a.subarray(10))).toBe(0);
    const at = a.byteOffset;
    expect(heap.freeView(a)).toBe(true);
    expect(heap.freeView(a)).toBe(false); // twice: ignored
    const c = heap.alloc(4990)!; // the same size class
    expect(c.byteOffset).toBe(at);
  });

  it('keeps earlier views valid while the memory grows', () => {
    const heap = new WasmHeap({ shared: true });
    const first = heap.alloc(RESIDENT_MIN_LENGTH)!;
    first.set(rand(first.length, 1));
    const copy = Float32Array.from(first);
    for (let i = 0; i < 8; i++) heap.alloc(1 << 20); // 4 MiB each: the memory grows several times
    expect(Array.from(first)).toEqual(Array.from(copy));
  });

  it('returns null below the minimum length, on an unshared memory, and when the limit is reached', () => {
    expect(new WasmHeap({ shared: true }).alloc(RESIDENT_MIN_LENGTH - 1)).toBeNull();
    expect(new WasmHeap({ shared: false }).alloc(1 << 16)).toBeNull();
    const heap = new WasmHeap({ shared: true, limitBytes: 4 << 20 });
    const views: Float32Array[] = [];
    for (let v = heap.alloc(1 << 18); v !== null; v = heap.alloc(1 << 18)) views.push(v); // 1 MiB each
    expect(views.length).toBeGreaterThan(0);
    expect(views.length).toBeLessThanOrEqual(4);
    // Freed blocks of another class serve a request once coalesced.
    for (const v of views) heap.freeView(v);
    const big = heap.alloc(views.length * (1 << 18) - 64);
    expect(big).not.toBeNull();
  });

  it('declines scratch beyond the memory (-1, or a clear error from scratch) without growing it', () => {
    const heap = new WasmHeap({ shared: true });
    const before = heap.memory.buffer.byteLength;
    expect(heap.tryScratch(3 * 2 ** 30)).toBe(-1);
    expect(() => heap.scratch(3 * 2 ** 30)).toThrow(/scratch memory/);
    expect(heap.memory.buffer.byteLength).toBe(before);
    expect(heap.tryScratch(1 << 20)).toBeGreaterThan(0);
  });

  it('keeps scratch apart from resident blocks', () => {
    const heap = new WasmHeap({ shared: true });
    const a = heap.alloc(1 << 16)!;
    const s = heap.scratch(1 << 22);
    const end = s + (1 << 22);
    expect(end <= a.byteOffset || s >= a.byteOffset + heap.capacityOf(a) * 4).toBe(true);
  });
});

describe('kernels read and write resident storage in place with the same results as staged', () => {
  const heap = new WasmHeap({ shared: true });
  const math = new F32Math({ threads: 2, heap });
  const gemm = new GemmEngine({ relaxedSimd: false, threads: 2, threadThreshold: 1 }, heap);
  /** A resident copy of x. */
  const resident = (x: Float32Array) => {
    const r = heap.alloc(x.length);
    if (r === null) throw new Error('test heap is full');
    r.set(x);
    return r;
  };
  const out = (n: number, inHeap: boolean) => (inHeap ? heap.alloc(n) ?? new Float32Array(n) : new Float32Array(n));
  const shape = fc.record({ rows: fc.integer({ min: 13, max: 80 }), cols: fc.integer({ min: 79, max: 130 }), seed: fc.integer({ min: 1, max: 1 << 30 }) });

  it('map, softmax and norm', () => {
    fc.assert(
      fc.property(shape, fc.boolean(), ({ rows, cols, seed }, outInHeap) => {
        const n = rows * cols;
        const x = rand(n, seed);
        const xr = resident(x);
        const before = Float32Array.from(x);
        const staged = new Float32Array(n);
        math.map('exp', x, 0, n, staged);
        const direct = out(n, outInHeap);
        math.map('exp', xr, 0, n, direct);
        expect(Array.from(direct)).toEqual(Array.from(staged));
        math.softmax(x, 0, rows, cols, staged);
        math.softmax(xr, 0, rows, cols, direct);
        expect(Array.from(direct)).toEqual(Array.from(staged));
        const alloc = (k: number) => out(k, outInHeap);
        const s = math.norm(x, null, null, rows, cols, 1e-5, false);
        const d = math.norm(xr, null, null, rows, cols, 1e-5, false, alloc);
        expect(Array.from(d.out)).toEqual(Array.from(s.out));
        expect(Array.from(d.rstd)).toEqual(Array.from(s.rstd));
        expect(Array.from(d.mean!)).toEqual(Array.from(s.mean!));
        expect(Array.from(xr)).toEqual(Array.from(before)); // inputs are not written
      }),
      { numRuns: 25 },
    );
  });

  it('binary with broadcast operands, scans and reductions', () => {
    fc.assert(
      fc.property(shape, fc.boolean(), ({ rows, cols, seed }, outInHeap) => {
        const n = rows * cols;
        const a = rand(n, seed);
        const row = rand(cols, seed + 1);
        const ar = resident(a);
        const staged = new Float32Array(n);
        const direct = out(n, outInHeap);
        const A = (data: Float32Array) => ({ data, start: 0, rowStride: cols, colStep: 1 as const });
        const bias = { data: row, start: 0, rowStride: 0, colStep: 1 as const };
        math.binary('mul', A(a), bias, rows, cols, staged);
        math.binary('mul', A(ar), bias, rows, cols, direct);
        expect(Array.from(direct)).toEqual(Array.from(staged));
        const br = resident(rand(n, seed + 2));
        const b = Float32Array.from(br);
        math.scan(a, b, null, 1, rows, cols, false, staged);
        math.scan(ar, br, null, 1, rows, cols, false, direct);
        expect(Array.from(direct)).toEqual(Array.from(staged));
        const rs = new Float32Array(cols);
        const rd = new Float32Array(cols);
        math.reduce('sum', a, 1, rows, cols, rs);
        math.reduce('sum', ar, 1, rows, cols, rd);
        expect(Array.from(rd)).toEqual(Array.from(rs));
      }),
      { numRuns: 25 },
    );
  });

  it('GEMM with either operand resident, with and without tile padding of C', () => {
    fc.assert(
      fc.property(
        fc.record({ m: fc.integer({ min: 1, max: 40 }), n: fc.integer({ min: 1, max: 40 }), k: fc.integer({ min: 1, max: 70 }), batch: fc.integer({ min: 1, max: 3 }) }),
        fc.boolean(),
        fc.boolean(),
        ({ m, n, k, batch }, transA, transB) => {
          const a = rand(Math.max(batch * m * k, RESIDENT_MIN_LENGTH), m * 31 + k);
          const b = rand(Math.max(batch * k * n, RESIDENT_MIN_LENGTH), n * 17 + k);
          const p = { batch, m, n, k, transA, transB, strideA: m * k, strideB: k * n };
          const want = gemm.matmul(a, b, p);
          const ar = resident(a);
          const br = resident(b);
          const alloc = (len: number) => out(len, true);
          expect(Array.from(gemm.matmul(ar, b, p, alloc))).toEqual(Array.from(want));
          expect(Array.from(gemm.matmul(a, br, p, alloc))).toEqual(Array.from(want));
          expect(Array.from(gemm.matmul(ar, br, p, alloc))).toEqual(Array.from(want));
          heap.freeView(ar);
          heap.freeView(br);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('the wasm backend keeps its float32 results resident', () => {
  it('chains kernels on resident results and gives them back on dispose', () => {
    const W = createWasmBackend();
    const n = 1 << 14;
    const x = { data: rand(n, 3), dtype: 'float32' as const, shape: [n], strides: [1], offset: 0 };
    const e = W.unary('exp', x, 'float32') as Float32Array;
    expect(e.buffer).toBeInstanceOf(SharedArrayBuffer);
    const y = W.binary('mul', { ...x, data: e }, { ...x, data: e }, [n], 'float32') as Float32Array;
    for (let i = 0; i < n; i += 997) expect(y[i]).toBe(Math.fround(e[i] * e[i]));
    const at = y.byteOffset;
    W.dispose(y);
    const z = W.unary('exp', x, 'float32') as Float32Array;
    expect(z.byteOffset).toBe(at);
  });
});

describe('binary ops over three merged dims (outer, rows, cols)', () => {
  const W = createWasmBackend();
  const R = createReferenceBackend();
  const contiguous = (shape: number[]) => {
    const strides = new Array<number>(shape.length);
    for (let i = shape.length - 1, s = 1; i >= 0; s *= shape[i--]) strides[i] = s;
    return strides;
  };
  /** A view of data of `shape` expanded to `to` (its size-1 dims with stride 0), as tensor-core passes them. */
  const bview = (data: Float32Array, shape: number[], to: number[] = shape) => {
    const st = contiguous(shape).map((s, i) => (shape[i] === 1 ? 0 : s));
    return { data, dtype: 'float32' as const, shape: to, strides: st, offset: 0 };
  };
  it('(E, T, 1) * (1, T, N) and (E, 1, N) - (E, T, 1) equal the reference bit for bit, staged and resident', () => {
    fc.assert(
      fc.property(
        fc.record({ E: fc.integer({ min: 16, max: 40 }), T: fc.integer({ min: 8, max: 30 }), N: fc.integer({ min: 8, max: 20 }), seed: fc.integer({ min: 1, max: 1 << 30 }) }),
        fc.constantFrom('mul', 'sub', 'div', 'maximum', 'lt'),
        fc.boolean(),
        ({ E, T, N, seed }, op, resident) => {
          const out = [E, T, N]; // at least 1024 elements: a resident result, so the three-dim kernel runs
          const pairs: [number[], number[]][] = [
            [[E, T, 1], [1, T, N]],
            [[E, 1, N], [E, T, 1]],
          ];
          for (const [sa, sb] of pairs) {
            let a: Float32Array = rand(sa.reduce((x, y) => x * y), seed);
            let b: Float32Array = rand(sb.reduce((x, y) => x * y), seed + 7);
            if (resident) {
              // Results of the backend itself live in its memory (when they are long enough to).
              a = W.unary('neg', { data: W.unary('neg', bview(a, [a.length]), 'float32') as Float32Array, dtype: 'float32', shape: [a.length], strides: [1], offset: 0 }, 'float32') as Float32Array;
              b = W.unary('neg', { data: W.unary('neg', bview(b, [b.length]), 'float32') as Float32Array, dtype: 'float32', shape: [b.length], strides: [1], offset: 0 }, 'float32') as Float32Array;
            }
            const aCopy = Float32Array.from(a);
            const got = W.binary(op, bview(a, sa, out), bview(b, sb, out), out, 'float32');
            const want = R.binary(op, bview(a, sa, out), bview(b, sb, out), out, 'float32');
            expect(Array.from(got)).toEqual(Array.from(want));
            expect(Array.from(a)).toEqual(Array.from(aCopy));
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
