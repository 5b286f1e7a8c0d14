/**
 * The benchmark workloads, as plain data every engine reads. Shapes follow the places formers spends its time:
 * square GEMMs (linear layers), batched Q @ K^T (attention scores), softmax and layer norm over rows, a
 * depthwise 3x3 convolution (the conditional position encoding of CPVT) and one training step of a small MLP.
 */

export type Workload =
  | {
      readonly kind: 'gemm';
      readonly name: string;
      readonly n: number;
      /** A stored (n x n) and used transposed (the weight gradient X^T dY of a linear layer). */
      readonly transA?: boolean;
      /** B stored (n x n) and used transposed (a linear layer's x W^T, with W stored (out, in) as in PyTorch). */
      readonly transB?: boolean;
    }
  | {
      readonly kind: 'bmm';
      readonly name: string;
      /** B * H attention heads of C (m x n) = A (m x k) @ op(B). */
      readonly batch: number;
      readonly m: number;
      readonly k: number;
      readonly n: number;
      /** B stored (n x k) and used transposed: the scores Q K^T with K stored (T x Dh). */
      readonly transB: boolean;
    }
  | { readonly kind: 'softmax'; readonly name: string; readonly rows: number; readonly cols: number }
  | { readonly kind: 'layerNorm'; readonly name: string; readonly rows: number; readonly cols: number }
  | {
      readonly kind: 'depthwiseConv2d';
      readonly name: string;
      readonly c: number;
      readonly h: number;
      readonly w: number;
      readonly k: number;
    }
  | {
      readonly kind: 'mlpStep';
      readonly name: string;
      /** Linear(dIn, dHidden) -> GELU -> Linear(dHidden, dIn), MSE loss, backward, SGD step. */
      readonly batch: number;
      readonly dIn: number;
      readonly dHidden: number;
    };

export function workloads(quick: boolean): Workload[] {
  return [
    { kind: 'gemm', name: 'GEMM n=256', n: 256 },
    { kind: 'gemm', name: 'GEMM n=512', n: 512 },
    { kind: 'gemm', name: 'GEMM n=1024', n: 1024 },
    // Transposed operands must not fall off a cliff: backward passes and PyTorch-layout weights use them.
    { kind: 'gemm', name: 'GEMM n=512 A^T', n: 512, transA: true },
    { kind: 'gemm', name: 'GEMM n=512 B^T', n: 512, transB: true },
    // The two batched products of softmax attention, B*H = 16 heads, T = 256, Dh = 64.
    { kind: 'bmm', name: 'Q@K^T 16x(256x64 @ 64x256)', batch: 16, m: 256, k: 64, n: 256, transB: true },
    { kind: 'bmm', name: 'P@V 16x(256x256 @ 256x64)', batch: 16, m: 256, k: 256, n: 64, transB: false },
    quick
      ? { kind: 'softmax', name: 'softmax 1024x1024', rows: 1024, cols: 1024 }
      : { kind: 'softmax', name: 'softmax 4096x1024', rows: 4096, cols: 1024 },
    quick
      ? { kind: 'layerNorm', name: 'layerNorm 1024x1024', rows: 1024, cols: 1024 }
      : { kind: 'layerNorm', name: 'layerNorm 4096x1024', rows: 4096, cols: 1024 },
    { kind: 'depthwiseConv2d', name: 'depthwise conv2d 1x64x56x56 k3', c: 64, h: 56, w: 56, k: 3 },
    { kind: 'mlpStep', name: 'MLP train step 256x(512-2048-512)', batch: 256, dIn: 512, dHidden: 2048 },
  ];
}

/** Floating-point operations of one run, where the count is meaningful (null for the memory-bound kernels). */
export function flopsOf(w: Workload): number | null {
  switch (w.kind) {
    case 'gemm':
      return 2 * w.n ** 3;
    case 'bmm':
      return 2 * w.batch * w.m * w.n * w.k;
    case 'depthwiseConv2d':
      return 2 * w.c * w.h * w.w * w.k * w.k;
    case 'mlpStep':
      // Forward 2 matmuls, backward 4 (grad input and grad weight of each): 6 * batch * dIn * dHidden * 2 flops.
      return 12 * w.batch * w.dIn * w.dHidden;
    default:
      return null;
  }
}

/** Deterministic inputs in [-1, 1) (mulberry32), so every engine sees the same numbers. */
export function randomData(length: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return out;
}
