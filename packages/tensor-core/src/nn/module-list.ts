/** ModuleList: an indexable list of submodules named '0', '1', ..., as torch.nn.ModuleList. */
import { Module } from './module.js';

export class ModuleList<M extends Module = Module> extends Module {
  private readonly items: M[] = [];

  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.push(m);
  }

  /** Number of modules. */
  get length(): number {
    return this.items.length;
  }

  /** The module at `index` (negative counts from the end); throws when out of range. */
  at(index: number): M {
    const n = this.items.length;
    if (!Number.isInteger(index) || index < -n || index >= n) {
      throw new Error(`ModuleList.at: expected index in [${-n}, ${n - 1}]; got ${index}`);
    }
    return this.items[index < 0 ? index + n : index];
  }

  /** Append modules; each is registered under the next index. Returns this. */
  push(...modules: M[]): this {
    for (const m of modules) {
      this.registerModule(String(this.items.length), m);
      this.items.push(m);
    }
    return this;
  }

  [Symbol.iterator](): IterableIterator<M> {
    return this.items[Symbol.iterator]();
  }

  /** A ModuleList holds modules; it has no forward of its own (as torch). */
  forward(): never {
    throw new Error('ModuleList: has no forward(); iterate over it and call its modules');
  }
}
