/** Dropout as a module (torch.nn.Dropout): active in training mode, the identity after `eval()`. */
import { dropout } from '../ops/dropout.js';
import type { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { checkProb } from './factory.js';
import { Module } from './module.js';

export class Dropout extends Module {
  /** Probability of zeroing an element. */
  readonly p: number;
  private readonly generator: Generator | undefined;

  /** `p` defaults to 0.5 as torch; `generator` draws the masks (default the global one). */
  constructor(p = 0.5, opts: { generator?: Generator } = {}) {
    super();
    this.p = checkProb('Dropout', 'p', p);
    this.generator = opts.generator;
  }

  /** Zero each element with probability p and scale the rest by 1 / (1 - p) (Srivastava et al. 2014). */
  forward(x: Tensor): Tensor {
    return dropout(x, { p: this.p, training: this.training, generator: this.generator });
  }

  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}
