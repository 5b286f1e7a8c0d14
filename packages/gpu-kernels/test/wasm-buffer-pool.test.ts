import { describe, expect, it } from 'vitest';
import { BufferPool } from '../src/wasm/buffer-pool.js';
import { createWasmBackend } from '../src/wasm/index.js';

describe('wasm buffer pool', () => {
  it('reuses a returned buffer for the next result of the same length, and only buffers it made', () => {
    const pool = new BufferPool(1 << 20, 16, 2);
    const a = pool.take(64);
    pool.give(a);
    expect(pool.heldBytes).toBe(256);
    expect(pool.take(64)).toBe(a);
    expect(pool.heldBytes).toBe(0);
    const foreign = new Float32Array(64);
    pool.give(foreign);
    pool.give(new Float64Array(64));
    pool.give(null);
    expect(pool.heldBytes).toBe(0);
    expect(pool.take(64)).not.toBe(foreign);
  });

  it('never hands one buffer out twice, even when it is given back twice', () => {
    const pool = new BufferPool(1 << 20, 16, 4);
    const a = pool.take(32);
    pool.give(a);
    pool.give(a);
    const x = pool.take(32);
    const y = pool.take(32);
    expect(x).toBe(a);
    expect(y).not.toBe(a);
  });

  it('respects its caps: small arrays, bytes and arrays per length', () => {
    const pool = new BufferPool(1024, 16, 1);
    const small = pool.take(8);
    pool.give(small);
    expect(pool.heldBytes).toBe(0);
    const [b1, b2] = [pool.take(64), pool.take(64)];
    pool.give(b1);
    pool.give(b2); // one per length
    expect(pool.heldBytes).toBe(256);
    const big = pool.take(1000);
    pool.give(big); // over 1024 bytes in all
    expect(pool.heldBytes).toBe(256);
    pool.clear();
    expect(pool.heldBytes).toBe(0);
  });

  it('the backend recycles disposed results and later results stay correct', () => {
    const W = createWasmBackend({ threads: 1 });
    const n = 8192;
    const x = { data: Float32Array.from({ length: n }, (_, i) => i % 13), dtype: 'float32' as const, shape: [n], strides: [1], offset: 0 };
    const first = W.unary('relu', x, 'float32') as Float32Array;
    W.dispose(first);
    const second = W.unary('neg', x, 'float32') as Float32Array;
    expect(second).toBe(first); // the same buffer, fully overwritten
    for (let i = 0; i < n; i++) expect(second[i]).toBe(-(i % 13));
    // A buffer the user passed in is never taken.
    W.dispose(x.data);
    expect(W.unary('neg', x, 'float32')).not.toBe(x.data);
    W.terminate();
  });
});
