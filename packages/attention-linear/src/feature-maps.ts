/**
 * Feature maps phi for linear attention (Katharopoulos et al. 2020, sec. 3.2.1): the kernel
 * sim(q, k) = phi(q) . phi(k) must be non-negative for the normaliser to be positive; elu(x) + 1 is the paper's
 * choice, relu also keeps it non-negative, identity gives the plain (unnormalised-safe only with care) (QK^T)V form.
 */
import { add, elu, minimum, mul, noGrad, record1, relu, type Tensor } from '@formers/tensor-core';

export type FeatureMapName = 'elu+1' | 'relu' | 'identity';
export type FeatureMapFn = (x: Tensor) => Tensor;

/**
 * elu(x) + 1 (tensor-core's elu is one kernel at alpha 1, then one add), as one autograd node: its derivative is
 * 1 for x > 0 and exp(x) for x <= 0, which is min(phi(x), 1), so backward is one clamp and one multiply of the
 * saved output instead of the comparisons that relu's and minimum's own gradients take. At x = 0 that gives 1, as
 * torch's elu backward does.
 */
function eluPlusOne(x: Tensor): Tensor {
  const y = noGrad(() => add(elu(x), 1)); // (..., M): the elu kernel, then + 1
  return record1('EluPlusOneBackward', [x], y, (g) => [mul(g, minimum(y, 1))], [y]);
}

const MAPS: Record<FeatureMapName, FeatureMapFn> = {
  'elu+1': eluPlusOne,
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
