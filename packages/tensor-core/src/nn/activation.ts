/** Activation modules (no parameters), as torch.nn.GELU, SiLU, ReLU, Tanh, Sigmoid, and Identity. */
import { gelu, relu, sigmoid, silu, tanh } from '../ops/elementwise.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

export interface GELUOptions {
  /** 'none' (default): exact x Phi(x); 'tanh': the tanh approximation (Hendrycks & Gimpel 2016). */
  readonly approximate?: 'none' | 'tanh';
}

/** GELU(x) = x Phi(x) (Hendrycks & Gimpel 2016), or its tanh approximation. */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';
  constructor(opts: GELUOptions = {}) {
    super();
    const a = opts.approximate ?? 'none';
    if (a !== 'none' && a !== 'tanh') throw new Error(`GELU: expected opts.approximate 'none' or 'tanh'; got ${JSON.stringify(a)}`);
    this.approximate = a;
  }
  forward(x: Tensor): Tensor {
    return gelu(x, { approximate: this.approximate });
  }
  protected override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** SiLU / swish: x sigmoid(x) (Elfwing et al. 2018). */
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return silu(x);
  }
}

/** max(x, 0). */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** Returns its input unchanged (a placeholder where a layer is optional, e.g. MLP's `norm`). */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}
