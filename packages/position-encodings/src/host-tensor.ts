/** Host float64 tables to tensors in the caller's dtype. */
import { tensor, type Tensor, type TensorOptions } from '@formers/tensor-core';

export type TableOptions = Pick<TensorOptions, 'backend' | 'dtype'>;

/** A tensor of `shape` from float64 host values; float32 by default (values rounded once, after float64 math). */
export function tableTensor(op: string, data: Float64Array, shape: readonly number[], opts: TableOptions = {}): Tensor {
  const dtype = opts.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new Error(`${op}: expected opts.dtype 'float32' or 'float64'; got ${JSON.stringify(dtype)}`);
  }
  return tensor(dtype === 'float64' ? data : Float32Array.from(data), { shape, dtype, backend: opts.backend });
}
