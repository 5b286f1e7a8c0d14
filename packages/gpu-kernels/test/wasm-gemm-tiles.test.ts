/**
 * The GEMM's micro-tiles at their edges, written in place into resident results, and the worker pool that the
 * GEMM and the float32 kernels share on one memory.
 */
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { detectFeatures } from '../src/wasm/features.js';
import { F32Math } from '../src/wasm/f32-math.js';
import { GemmEngine } from '../src/wasm/gemm-engine.js';
import { KC, TILE_FMA, TILE_MUL_ADD, blocking, gemmTile } from '../src/wasm/gemm-module.js';
import { DEFAULT_SPIN_MS, WasmThreadPool, defaultSpinMs } from '../src/wasm/thread-pool.js';
import { RESIDENT_MIN_LENGTH, WasmHeap } from '../src/wasm/wasm-heap.js';
import { xorshiftF32 } from './xorshift.js';
import { naiveMatmul } from './naive-matmul.js';
import type { MatmulParams } from '../src/types.js';

const rand = (n: number, seed: number) => xorshiftF32(n, seed, -1, 1);

/**
 * max |got - want| / bound over C, where want is the float64 product and bound = (k + 2) 2^-23 (|A| @ |B|), the
 * float32 accumulation error bound with a margin of two roundings: <= 1 passes.
 */
function errorRatio(got: Float32Array, a: Float32Array, b: Float32Array, p: MatmulParams): number {
  const want = naiveMatmul(a, b, p);
  const mag = naiveMatmul(a.map(Math.abs), b.map(Math.abs), p);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / ((p.k + 2) * 2 ** -23 * mag[i] + 1e-30));
  return worst;
}

const SENTINEL = 12345.5;
const relaxedAvailable = detectFeatures({ enableRelaxedSimdFlag: true }).relaxedSimd;
const engines: { name: string; engine: GemmEngine; heap: WasmHeap }[] = [];
for (const relaxedSimd of relaxedAvailable ? [true, false] : [false]) {
  for (const threads of [1, 3]) {
    const heap = new WasmHeap({ shared: true }); // resident results need the shared heap, also on one thread
    engines.push({ name: `${relaxedSimd ? 'FMA' : 'mul + add'} tile, ${threads} thread(s)`, heap, engine: new GemmEngine({ relaxedSimd, threads, threadThreshold: 0 }, heap) });
  }
}
afterAll(() => engines.forEach((e) => e.engine.terminate()));

/** A product's sizes and layout; each batch has its own A and B. */
type Shape = Omit<MatmulParams, 'strideA' | 'strideB'>;

/** Multiply into a resident result whose spare capacity holds a sentinel, and check both. */
function checkInPlace(heap: WasmHeap, engine: GemmEngine, s: Shape, seed: number): void {
  const a = rand(s.batch * s.m * s.k, seed);
  const b = rand(s.batch * s.k * s.n, seed + 1);
  const p: MatmulParams = { ...s, strideA: s.m * s.k, strideB: s.k * s.n };
  let tail: Float32Array | null = null;
  const got = engine.matmul(a, b, p, (len) => {
    const view = heap.alloc(len);
    if (view === null) throw new Error('expected a resident result');
    tail = new Float32Array(heap.memory.buffer, view.byteOffset + len * 4, heap.capacityOf(view) - len);
    tail.fill(SENTINEL);
    view.fill(Number.NaN); // a tile the kernel forgot would show as NaN
    return view;
  });
  expect(tail).not.toBeNull();
  // Nothing past the result was written, though its block has room for a padded tile.
  expect(tail!.every((x) => x === SENTINEL)).toBe(true);
  expect(errorRatio(got, a, b, p)).toBeLessThanOrEqual(1);
  heap.freeView(got);
}

describe('GEMM micro-tile edges', () => {
  it('uses a 5 x 8 tile with FMA and a 4 x 8 tile without, and blocks in whole tiles', () => {
    expect(gemmTile(true)).toBe(TILE_FMA);
    expect(gemmTile(false)).toBe(TILE_MUL_ADD);
    for (const t of [TILE_FMA, TILE_MUL_ADD]) {
      const { mc, nc, kc } = blocking(t);
      expect(mc % t.mr).toBe(0);
      expect(nc % (4 * t.nv)).toBe(0);
      expect(kc).toBe(KC);
    }
  });

  for (const { name, engine, heap } of engines) {
    it(`writes every partial row and column tile exactly, in place (${name})`, () => {
      // Every remainder of m modulo 5 and 4 and of n modulo 8, with batches that make the result resident.
      let seed = 1;
      for (let m = 1; m <= 11; m++) {
        for (const n of [1, 3, 7, 8, 9, 15, 17]) {
          const batch = Math.ceil(RESIDENT_MIN_LENGTH / (m * n));
          checkInPlace(heap, engine, { batch, m, n, k: 3, transA: m % 2 === 0, transB: n % 3 === 0 }, seed++);
        }
      }
    });

    it(`random shapes across the cache blocks, in place (${name})`, () => {
      let seed = 100;
      fc.assert(
        fc.property(
          fc.record({
            m: fc.integer({ min: 1, max: 140 }),
            n: fc.integer({ min: 1, max: 600 }),
            k: fc.integer({ min: 1, max: 300 }),
            transA: fc.boolean(),
            transB: fc.boolean(),
          }),
          (c) => {
            const batch = Math.ceil(RESIDENT_MIN_LENGTH / (c.m * c.n));
            checkInPlace(heap, engine, { ...c, batch }, seed++);
          },
        ),
        { seed: 7, numRuns: 25 },
      );
    });
  }
});

describe('the worker pool of a memory', () => {
  afterEach(() => {
    delete process.env.FORMERS_WASM_SPIN_MS;
  });

  it('is one pool for the GEMM and the float32 kernels, also when a module joins after the workers started', () => {
    const heap = new WasmHeap({ shared: true });
    expect(WasmThreadPool.forMemory(heap.memory, 1)).toBe(WasmThreadPool.forMemory(heap.memory, 1));
    const gemm = new GemmEngine({ relaxedSimd: false, threads: 2, threadThreshold: 0 }, heap);
    const s = { batch: 1, m: 64, n: 64, k: 40, transA: false, transB: false };
    checkInPlace(heap, gemm, s, 3); // the workers start here, with the GEMM module only
    // The float32 module joins the running pool: its workers restart with both modules.
    const math = new F32Math({ threads: 2, heap });
    const single = new F32Math({ threads: 1 });
    const x = rand(1 << 16, 9);
    const want = new Float32Array(x.length);
    single.map('exp', x, 0, x.length, want);
    const got = new Float32Array(x.length);
    math.map('exp', x, 0, x.length, got);
    expect(got).toEqual(want);
    expect(math.threadFailure).toBeNull();
    checkInPlace(heap, gemm, s, 4);
    expect(gemm.threadFailure).toBeNull();
    // One pool: stopping the GEMM's threads stops the float32 kernels' threads too, and both still compute.
    gemm.terminate();
    expect(math.threadFailure).toBe('terminated');
    math.map('exp', x, 0, x.length, got);
    expect(got).toEqual(want);
    checkInPlace(heap, gemm, s, 5);
  });

  it('spins FORMERS_WASM_SPIN_MS milliseconds after a round (default 5), and rejects a bad value by name', () => {
    expect(defaultSpinMs()).toBe(DEFAULT_SPIN_MS);
    expect(DEFAULT_SPIN_MS).toBe(5);
    process.env.FORMERS_WASM_SPIN_MS = '0';
    expect(defaultSpinMs()).toBe(0);
    // A pool that blocks at once computes the same.
    const heap = new WasmHeap({ shared: true });
    const gemm = new GemmEngine({ relaxedSimd: false, threads: 2, threadThreshold: 0 }, heap);
    checkInPlace(heap, gemm, { batch: 2, m: 33, n: 40, k: 17, transA: true, transB: false }, 6);
    expect(gemm.threadFailure).toBeNull();
    gemm.terminate();
    for (const bad of ['-1', 'fast', '2000']) {
      process.env.FORMERS_WASM_SPIN_MS = bad;
      expect(() => defaultSpinMs()).toThrow(`FORMERS_WASM_SPIN_MS: expected a number of milliseconds in [0, 1000]; got "${bad}"`);
    }
    expect(() => new WasmThreadPool(heap.memory, 1, Number.NaN)).toThrow('expected spinMs in [0, 1000]; got NaN');
  });
});
