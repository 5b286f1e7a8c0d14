/**
 * Feature maps phi for linear attention (Katharopoulos et al. 2020, sec. 3.2.1): the kernel
 * sim(q, k) = phi(q) . phi(k) must be non-negative for the normaliser to be positive; elu(x) + 1 is the paper's
 * choice, relu also keeps it non-negative, identity gives the plain (unnormalised-safe only with care) (QK^T)V form.
 */
import { add, exp, minimum, relu, type Tensor } from '@formers/tensor-core';

export type FeatureMapName = 'elu+1' | 'relu' | 'identity';
export type FeatureMapFn = (x: Tensor) => Tensor;

const MAPS: Record<FeatureMapName, FeatureMapFn> = {
  // elu(x) + 1 = relu(x) + exp(min(x, 0)): the same function and gradient in four elementwise ops instead of six.
  'elu+1': (x) => add(relu(x), exp(minimum(x, 0))),
  relu: (x) => relu(x),
  identity: (x) => x,
};

/** Resolve a feature map by name (or pass a function through). */
export function featureMap(op: string, f: FeatureMapName | FeatureMapFn | undefined): FeatureMapFn {
  if (f === undefined) return MAPS['elu+1'];
  if (typeof f === 'function') return f;
  const m = MAPS[f as FeatureMapName];
  if (!m) throw new Error(`${op}: expected featureMap 'elu+1', 'relu', 'identity' or a function; got ${JSON.stringify(f)}`);
  return m;
}
