/**
 * Reverse-mode automatic differentiation over a dynamic tape.
 *
 * Each differentiable op that sees an input requiring grad (with grad mode on) records a `Node`: its inputs, its
 * outputs and a backward closure that maps the outputs' gradients to the inputs' gradients with ordinary tensor
 * ops (so gradients live on the same backend, and `createGraph` gives higher-order gradients for free).
 * `backward` visits the nodes reachable from the root in reverse topological order, sums the gradients that
 * reach a tensor along several paths, and accumulates into the `.grad` of leaves that require grad.
 *
 * An op lists in `saves` the tensors its closure reads; an in-place op on one of them before backward is an
 * error (torch's version counter check) instead of a silently wrong gradient.
 */
import { enableGrad, isGradEnabled, noGrad } from './grad-mode.js';
import { fmt, shapesEqual } from './shape.js';
import { keep } from './scope.js';
import type { Tensor } from './tensor.js';
import { add } from './ops/elementwise.js';
import { zeros, onesLike } from './creation.js';

/** Maps the gradients of a node's outputs to those of its inputs (null where an input gets none). */
export type BackwardFn = (grads: Tensor[], needs: readonly boolean[]) => (Tensor | null | undefined)[];

export class Node {
  readonly outputs: Tensor[] = [];
  readonly needs: boolean[];
  readonly savedVersions: number[];
  constructor(
    /** The op's name, as in torch's grad_fn (e.g. 'MulBackward'). */
    readonly name: string,
    readonly inputs: readonly Tensor[],
    readonly saved: readonly Tensor[],
    readonly backwardFn: BackwardFn,
  ) {
    this.needs = inputs.map((t) => t.requiresGrad);
    this.savedVersions = saved.map((t) => t.version);
  }
}

/** True when an op on `inputs` must be recorded. */
export function needsGrad(inputs: readonly Tensor[]): boolean {
  return isGradEnabled() && inputs.some((t) => t.requiresGrad);
}

/**
 * Record an op whose outputs are `outputs` (fresh tensors) if any input requires grad. `saves` are the tensors the
 * closure reads (default: the inputs). Returns the first output for chaining.
 */
export function record(
  name: string,
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  backward: BackwardFn,
  saves?: readonly Tensor[],
): Tensor {
  if (needsGrad(inputs)) {
    const node = new Node(name, inputs, saves ?? inputs, backward);
    outputs.forEach((o, i) => {
      if (!o.dtype.startsWith('float')) return; // indices and masks carry no gradient
      o.requiresGrad = true;
      o.gradFn = node;
      o.outputIndex = i;
      node.outputs[i] = o;
    });
  }
  return outputs[0];
}

/** Single-output shorthand for `record`. */
export function record1(
  name: string,
  inputs: readonly Tensor[],
  out: Tensor,
  backward: (g: Tensor, needs: readonly boolean[]) => (Tensor | null | undefined)[],
  saves?: readonly Tensor[],
): Tensor {
  return record(name, inputs, [out], (gs, needs) => backward(gs[0], needs), saves);
}

export interface BackwardOptions {
  /** Record the backward pass itself so gradients can be differentiated again (torch create_graph). */
  readonly createGraph?: boolean;
  /** Compute gradients only for these tensors and return them, without touching any `.grad` (torch.autograd.grad). */
  readonly inputs?: readonly Tensor[];
}

/** Nodes reachable from `root`, ordered so that every node comes before the nodes it feeds from. */
function topoOrder(root: Node): Node[] {
  const order: Node[] = [];
  const state = new Map<Node, number>();
  const stack: [Node, number][] = [[root, 0]];
  state.set(root, 1);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [node, i] = top;
    if (i < node.inputs.length) {
      top[1]++;
      const next = node.inputs[i].gradFn;
      if (next && node.needs[i] && !state.has(next)) {
        state.set(next, 1);
        stack.push([next, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order.reverse();
}

/**
 * Backpropagate from `root` (t.backward()). With no `grad`, `root` must hold one element and its gradient is 1.
 * Returns the gradients of `opts.inputs` when given (and then leaves `.grad` untouched).
 */
export function backward(root: Tensor, grad?: Tensor, opts: BackwardOptions = {}): (Tensor | null)[] {
  if (!root.requiresGrad) {
    throw new Error('backward: element 0 of tensors does not require grad and does not have a grad_fn');
  }
  let seed: Tensor;
  if (grad === undefined) {
    if (root.numel !== 1) {
      throw new Error(
        `backward: grad can be implicitly created only for scalar outputs; got shape ${fmt(root.shape)} ` +
          '(pass a gradient of the same shape)',
      );
    }
    seed = noGrad(() => onesLike(root));
  } else {
    if (!shapesEqual(grad.shape, root.shape)) {
      throw new Error(`backward: expected grad.shape ${fmt(root.shape)} (the output's); got ${fmt(grad.shape)}`);
    }
    seed = grad;
  }
  const wanted = opts.inputs ? new Map<Tensor, Tensor | null>(opts.inputs.map((t) => [t, null])) : null;
  const accumulate = (leaf: Tensor, g: Tensor) => {
    if (wanted) {
      if (wanted.has(leaf)) {
        const prev = wanted.get(leaf);
        wanted.set(leaf, prev ? add(prev, g) : g);
      }
      return;
    }
    if (!leaf.requiresGrad) return;
    const detached = opts.createGraph ? g : g.detach();
    leaf.grad = keep(leaf.grad ? (opts.createGraph ? add(leaf.grad, detached) : add(leaf.grad, detached).detach()) : detached);
  };
  const run = () => {
    if (!root.gradFn) {
      accumulate(root, seed);
      return;
    }
    const pending = new Map<Node, (Tensor | null)[]>();
    pending.set(root.gradFn, []);
    pending.get(root.gradFn)![root.outputIndex] = seed;
    for (const node of topoOrder(root.gradFn)) {
      const slots = pending.get(node);
      pending.delete(node);
      if (!slots) continue;
      node.saved.forEach((t, i) => {
        if (t.version !== node.savedVersions[i]) {
          throw new Error(
            `backward: one of the tensors needed by ${node.name} (shape ${fmt(t.shape)}) has been modified by an ` +
              `in-place operation (version ${node.savedVersions[i]} -> ${t.version})`,
          );
        }
      });
      const outGrads = node.outputs.map((o, i) => slots[i] ?? zeros(o.shape, { dtype: o.dtype, backend: o.backend }));
      node.outputs.forEach((o, i) => {
        if (o.retainsGrad && slots[i]) o.grad = keep(opts.createGraph ? slots[i]! : slots[i]!.detach());
        if (wanted?.has(o) && slots[i]) wanted.set(o, slots[i]!);
      });
      const inGrads = node.backwardFn(outGrads, node.needs);
      node.inputs.forEach((input, i) => {
        const g = inGrads[i];
        if (!node.needs[i] || !g) return;
        if (!shapesEqual(g.shape, input.shape)) {
          throw new Error(
            `backward: internal error in ${node.name}: gradient for input ${i} has shape ${fmt(g.shape)}, ` +
              `expected ${fmt(input.shape)}`,
          );
        }
        if (input.gradFn) {
          const s = pending.get(input.gradFn) ?? [];
          const prev = s[input.outputIndex];
          s[input.outputIndex] = prev ? add(prev, g) : g;
          pending.set(input.gradFn, s);
          if (wanted?.has(input)) wanted.set(input, s[input.outputIndex]);
        } else {
          accumulate(input, g);
        }
      });
    }
  };
  if (opts.createGraph) enableGrad(run);
  else noGrad(run);
  return wanted ? [...wanted.values()] : [];
}

/**
 * Gradients of `outputs` with respect to `inputs` without touching `.grad` (torch.autograd.grad). `gradOutputs`
 * defaults to ones for one-element outputs.
 */
export function grad(
  output: Tensor,
  inputs: readonly Tensor[],
  opts: { gradOutput?: Tensor; createGraph?: boolean } = {},
): (Tensor | null)[] {
  return backward(output, opts.gradOutput, { inputs, createGraph: opts.createGraph });
}
