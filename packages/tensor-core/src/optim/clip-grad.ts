/** Gradient clipping by total norm (torch.nn.utils.clip_grad_norm_). */
import { scalar } from '../creation.js';
import { noGrad } from '../grad-mode.js';
import { div } from '../ops/elementwise.js';
import { stack } from '../ops/join.js';
import { Tensor } from '../tensor.js';

export interface ClipGradNormOptions {
  /** Order of the norm: any p > 0, or Infinity; default 2. */
  readonly normType?: number;
  /**
   * Throw when the total norm is NaN or infinite instead of scaling by it (needs a synchronous backend, since the
   * norm has to be read back). Default false, as torch.
   */
  readonly errorIfNonfinite?: boolean;
}

/**
 * Scale the gradients of `params` in place so that their total norm (the norm of the vector of per-tensor norms)
 * is at most `maxNorm`, and return that total norm (before clipping) as a 0-d tensor. As torch, the gradients are
 * multiplied by min(1, maxNorm / (total + 1e-6)); parameters without a gradient are ignored, and with none at all
 * the result is 0.
 */
export function clipGradNorm_(params: Tensor | Iterable<Tensor>, maxNorm: number, opts: ClipGradNormOptions = {}): Tensor {
  const normType = opts.normType ?? 2;
  if (typeof maxNorm !== 'number' || !(maxNorm >= 0)) throw new Error(`clipGradNorm_: expected maxNorm to be a number >= 0; got ${maxNorm}`);
  if (typeof normType !== 'number' || !(normType > 0)) throw new Error(`clipGradNorm_: expected opts.normType > 0 or Infinity; got ${normType}`);
  const list = params instanceof Tensor ? [params] : [...params];
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) throw new Error(`clipGradNorm_: expected params[${i}] to be a Tensor; got ${typeof p}`);
  });
  const withGrad = list.filter((p) => p.grad !== null);
  if (withGrad.length === 0) return scalar(0, { dtype: list[0]?.dtype === 'float64' ? 'float64' : 'float32', backend: list[0]?.backend });
  return noGrad(() => {
    const grads = withGrad.map((p) => p.grad!);
    const dtype = grads.some((g) => g.dtype === 'float64') ? 'float64' : 'float32';
    const norms = grads.map((g) => g.norm({ p: normType }).to(dtype)); // one 0-d norm per tensor
    const total = stack(norms).norm({ p: normType }); // 0-d
    if (opts.errorIfNonfinite) {
      if (!total.backend.sync) {
        throw new Error(`clipGradNorm_: errorIfNonfinite needs a synchronous backend to read the norm; backend "${total.backend.name}" is asynchronous`);
      }
      const v = total.item();
      if (!Number.isFinite(v)) {
        throw new Error(
          `clipGradNorm_: the total norm of order ${normType} for gradients from \`parameters\` is non-finite (${v}), so it cannot be clipped. ` +
            'To disable this error and scale the gradients by the non-finite norm anyway, set errorIfNonfinite: false',
        );
      }
    }
    const coef = div(maxNorm, total.add(1e-6)).clamp(null, 1); // min(1, maxNorm / (total + 1e-6))
    for (const g of grads) g.mul_(coef);
    return total;
  });
}
