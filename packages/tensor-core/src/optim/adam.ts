/** Adam (Kingma & Ba 2015) with torch.optim.Adam's exact update rule, and AdamW (Loshchilov & Hutter 2019). */
import { zerosLike } from '../creation.js';
import type { Tensor } from '../tensor.js';
import { checkNumber, Optimizer, type BaseOptimizerOptions, type ParamGroup, type ParamState, type ParamsInput } from './optimizer.js';

export interface AdamOptions extends BaseOptimizerOptions {
  /** Decay rates of the first and second moment estimates; default [0.9, 0.999]. */
  betas: readonly [number, number];
  /** Added to the denominator; default 1e-8. */
  eps: number;
  /** Adam: an L2 penalty added to the gradient; AdamW: decoupled decay of the weights. */
  weightDecay: number;
  /** Use the maximum of past second moments (Reddi et al. 2018, AMSGrad); default false. */
  amsgrad: boolean;
  /** Maximise the objective instead; default false. */
  maximize: boolean;
}

/**
 * Adam as torch computes it, per parameter p with gradient g at step t (from 1):
 *   g = g + weightDecay p   (Adam only: L2 folded into the gradient)
 *   p = p (1 - lr weightDecay)   (AdamW only: decoupled decay, before the Adam step)
 *   m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
 *   denom = sqrt(v) / sqrt(1 - beta2^t) + eps   (v replaced by max(vmax, v) with amsgrad)
 *   p = p - lr / (1 - beta1^t) * m / denom
 * Note eps sits outside the bias-corrected square root, as in torch (not inside as in some papers' variants).
 */
export class Adam extends Optimizer<AdamOptions> {
  /** Whether weight decay is decoupled (AdamW) or L2 (Adam); set per class. */
  protected static readonly decoupledWeightDecay: boolean = false;
  protected static readonly optimizerName: string = 'Adam';
  /** Whether weight decay is decoupled (AdamW) or L2 (Adam). */
  protected readonly decoupled: boolean;

  constructor(params: ParamsInput<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    const cls = new.target as typeof Adam;
    super(cls.optimizerName, params, {
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: cls.decoupledWeightDecay ? 1e-2 : 0,
      amsgrad: false,
      maximize: false,
      ...opts,
    });
    this.decoupled = cls.decoupledWeightDecay;
  }

  protected validate(o: AdamOptions, where: string): void {
    const op = `${this.op} (${where})`;
    checkNumber(op, 'lr', o.lr, 0);
    checkNumber(op, 'eps', o.eps, 0);
    checkNumber(op, 'weightDecay', o.weightDecay, 0);
    if (!Array.isArray(o.betas) || o.betas.length !== 2) throw new Error(`${op}: expected betas to be a pair [beta1, beta2]; got ${JSON.stringify(o.betas)}`);
    checkNumber(op, 'betas[0]', o.betas[0], 0, 1);
    checkNumber(op, 'betas[1]', o.betas[1], 0, 1);
  }

  protected update(p: Tensor, grad: Tensor, g: ParamGroup<AdamOptions>, st: ParamState): void {
    const [beta1, beta2] = g.betas;
    let gr = g.maximize ? grad.neg() : grad;
    let param = p;
    if (g.weightDecay !== 0) {
      if (this.decoupled) param = p.mul(1 - g.lr * g.weightDecay);
      else gr = gr.add(p, { alpha: g.weightDecay });
    }
    const step = ((st.step as number | undefined) ?? 0) + 1;
    st.step = step;
    const m0 = (st.expAvg as Tensor | undefined) ?? zerosLike(p);
    const v0 = (st.expAvgSq as Tensor | undefined) ?? zerosLike(p);
    const m = m0.mul(beta1).add(gr, { alpha: 1 - beta1 });
    const v = v0.mul(beta2).add(gr.mul(gr), { alpha: 1 - beta2 });
    this.setState(st, 'expAvg', m);
    this.setState(st, 'expAvgSq', v);
    const bc1 = 1 - beta1 ** step;
    const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
    const stepSize = g.lr / bc1;
    let second = v;
    if (g.amsgrad) {
      const prevMax = st.maxExpAvgSq as Tensor | undefined;
      second = prevMax ? prevMax.maximum(v) : v.clone();
      this.setState(st, 'maxExpAvgSq', second);
    }
    const denom = second.sqrt().div(bc2Sqrt).add(g.eps);
    this.assign(p, param.add(m.div(denom), { alpha: -stepSize }));
  }
}

/** AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019); torch defaults, weightDecay 0.01. */
export class AdamW extends Adam {
  protected static override readonly decoupledWeightDecay: boolean = true;
  protected static override readonly optimizerName: string = 'AdamW';
}
