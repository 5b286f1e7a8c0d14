/**
 * What the gpu.js backends do not run as gpu.js kernels, and why. These run the reference backend's TypeScript
 * kernels on the host. Every entry is listed in `backend.fallbacks` from the start and warned about once, on
 * first use, so none of it is silent.
 */
export const DELEGATED_KERNELS: Readonly<Record<string, string>> = {
  'gather:int32':
    'gather of int32 values runs on the reference backend: gpu.js computes in float32, which holds integers exactly only below 2^24 (int32 indices are fine on the GPU)',
  'scatterAdd:int32':
    'scatterAdd of int32 values runs on the reference backend: gpu.js computes in float32, so int32 sums past 2^24 would round',
  'concat:int32':
    'concat of int32 values runs on the reference backend: gpu.js computes in float32, which holds integers exactly only below 2^24',
  'cumsum:int32':
    'int32 cumsum runs on the reference backend: gpu.js computes in float32, so int32 sums past 2^24 would round',
  'unary:int32':
    'int32 unary ops run on the reference backend: gpu.js computes in float32, which holds integers exactly only below 2^24, so int32 results would not wrap like int32',
  'binary:int32':
    'binary ops with an int32 operand run on the reference backend: gpu.js computes in float32, which holds integers exactly only below 2^24',
  'where:int32':
    'where with int32 values runs on the reference backend: gpu.js computes in float32, which holds integers exactly only below 2^24 (an int32 condition is fine on the GPU)',
  'reduce:int32':
    'int32 reductions run on the reference backend: gpu.js computes in float32, so int32 sums past 2^24 would round',
};
