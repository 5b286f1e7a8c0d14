/** Sequential: modules applied one after another, named '0', '1', ..., as torch.nn.Sequential. */
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

/** A module whose forward takes one tensor and returns one tensor. */
export interface TensorModule extends Module {
  forward(x: Tensor): Tensor;
}

export class Sequential extends Module {
  private readonly items: TensorModule[] = [];

  constructor(...modules: TensorModule[]) {
    super();
    for (const m of modules) this.push(m);
  }

  get length(): number {
    return this.items.length;
  }

  /** The module at `index` (negative counts from the end). */
  at(index: number): TensorModule {
    const n = this.items.length;
    if (!Number.isInteger(index) || index < -n || index >= n) {
      throw new Error(`Sequential.at: expected index in [${-n}, ${n - 1}]; got ${index}`);
    }
    return this.items[index < 0 ? index + n : index];
  }

  /** Append a module under the next index. Returns this. */
  push(...modules: TensorModule[]): this {
    for (const m of modules) {
      if (!(m instanceof Module)) throw new Error(`Sequential: expected a Module at index ${this.items.length}; got ${typeof m}`);
      this.registerModule(String(this.items.length), m);
      this.items.push(m);
    }
    return this;
  }

  [Symbol.iterator](): IterableIterator<TensorModule> {
    return this.items[Symbol.iterator]();
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.items) y = m.forward(y);
    return y;
  }
}
