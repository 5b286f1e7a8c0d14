/** Stochastic gradient descent with momentum (torch.optim.SGD, same update rule). */
import { clone } from '../ops/views.js';
import type { Tensor } from '../tensor.js';
import { checkNumber, Optimizer, type BaseOptimizerOptions, type ParamGroup, type ParamState, type ParamsInput } from './optimizer.js';

export interface SGDOptions extends BaseOptimizerOptions {
  /** Momentum factor; default 0. */
  momentum: number;
  /** Dampening of the gradient added to the momentum buffer; default 0. */
  dampening: number;
  /** L2 penalty added to the gradient (coupled weight decay); default 0. */
  weightDecay: number;
  /** Nesterov momentum (Sutskever et al. 2013); needs momentum > 0 and dampening 0. Default false. */
  nesterov: boolean;
  /** Maximise the objective instead; default false. */
  maximize: boolean;
}

/**
 * torch's rule, per parameter p with gradient g:
 *   d = g + weightDecay p;  b = d at the first step, else momentum b + (1 - dampening) d;
 *   d = nesterov ? d + momentum b : b  (when momentum != 0);  p = p - lr d.
 * (This is torch's form of momentum, which differs from Sutskever et al.'s by where lr enters.)
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsInput<SGDOptions>, opts: Partial<SGDOptions> & { lr: number }) {
    super('SGD', params, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, ...opts });
  }

  protected validate(o: SGDOptions, where: string): void {
    const op = `SGD (${where})`;
    checkNumber(op, 'lr', o.lr, 0);
    checkNumber(op, 'momentum', o.momentum, 0);
    checkNumber(op, 'dampening', o.dampening, -Infinity);
    checkNumber(op, 'weightDecay', o.weightDecay, 0);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new Error(`${op}: Nesterov momentum requires a momentum > 0 and zero dampening; got momentum ${o.momentum}, dampening ${o.dampening}`);
    }
  }

  protected update(p: Tensor, grad: Tensor, g: ParamGroup<SGDOptions>, st: ParamState): void {
    let d = g.maximize ? grad.neg() : grad;
    if (g.weightDecay !== 0) d = d.add(p, { alpha: g.weightDecay });
    if (g.momentum !== 0) {
      const prev = st.momentumBuffer as Tensor | undefined;
      const buf = prev ? prev.mul(g.momentum).add(d, { alpha: 1 - g.dampening }) : clone(d);
      this.setState(st, 'momentumBuffer', buf);
      d = g.nesterov ? d.add(buf, { alpha: g.momentum }) : buf;
    }
    this.assign(p, p.add(d, { alpha: -g.lr }));
  }
}
