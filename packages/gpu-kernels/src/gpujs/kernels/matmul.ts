import type { MatmulParams } from '../../types.js';
import type { Maybe } from '../async.js';
import type { KernelRunner } from '../runner.js';
import { decompose, f, int, kernelSource } from '../source.js';

/**
 * C[b] = op(A[b]) @ op(B[b]), one thread per output element of (batch, m, n). A is read as (m, k), or (k, m)
 * with transA; B as (k, n), or (n, k) with transB; strideA / strideB of 0 broadcast one matrix over the batch.
 * k = 0 gives zeros without a kernel.
 */
export function matmulKernel(run: KernelRunner, a: Float32Array, b: Float32Array, p: MatmulParams): Maybe<Float32Array> {
  const { batch, m, n, k, transA, transB, strideA, strideB } = p;
  const size = batch * m * n;
  if (size === 0 || k === 0) return new Float32Array(size);
  const aAt = transA ? `q * ${f(m)} + r` : `r * ${f(k)} + q`;
  const bAt = transB ? `c * ${f(k)} + q` : `q * ${f(n)} + c`;
  const body = [
    decompose('i', [batch, m, n], 'p'),
    'const bi = p0;',
    'const r = p1;',
    'const c = p2;',
    `const offA = bi * ${f(strideA)};`,
    `const offB = bi * ${f(strideB)};`,
    'let acc = 0.0;',
    `for (let s = 0; s < ${int(k)}; s++) {`,
    '  const q = s * 1.0;',
    `  acc += a[offA + ${aAt}] * b[offB + ${bAt}];`,
    '}',
    'return acc;',
  ].join('\n');
  return run.run({ kernel: 'matmul', source: kernelSource(['a', 'b'], body), size, args: [a, b] });
}
