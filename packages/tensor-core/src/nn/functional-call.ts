/** Run a module with some of its parameters and buffers replaced (torch.func.functional_call). */
import { Tensor } from '../tensor.js';
import { fmt, shapesEqual } from '../shape.js';
import type { Module, StateDictLike } from './module.js';

/**
 * Call `module.forward(...args)` with the tensors in `tensors` (dotted state-dict names) standing in for the
 * module's own, then put the originals back, even when forward throws. The stand-ins take part in autograd as
 * they are, so gradients flow to them and not to the module's parameters. Useful for gradient checks,
 * meta-learning and weight sharing experiments.
 */
export function functionalCall<M extends Module>(
  module: M,
  tensors: StateDictLike,
  ...args: Parameters<M['forward']>
): ReturnType<M['forward']> {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors as Record<string, Tensor>);
  const restore: [Module, string, Tensor][] = [];
  try {
    for (const [key, t] of entries) {
      if (!(t instanceof Tensor)) throw new Error(`functionalCall: expected "${key}" to be a Tensor; got ${typeof t}`);
      const dot = key.lastIndexOf('.');
      const owner = module.getSubmodule(dot < 0 ? '' : key.slice(0, dot));
      const name = key.slice(dot + 1);
      const current = [...owner.namedParameters({ recurse: false }), ...owner.namedBuffers({ recurse: false })].find(([n]) => n === name)?.[1];
      if (!current) throw new Error(`functionalCall: ${module.className} has no parameter or buffer "${key}"`);
      if (!shapesEqual(current.shape, t.shape)) {
        throw new Error(`functionalCall: expected "${key}" of shape ${fmt(current.shape)}; got ${fmt(t.shape)}`);
      }
      restore.push([owner, name, owner.swapTensor(name, t)]);
    }
    return module.call(...args);
  } finally {
    for (const [owner, name, old] of restore.reverse()) owner.swapTensor(name, old);
  }
}
