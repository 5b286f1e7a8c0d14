import { describe, expect, it } from 'vitest';
import { add, enableGrad, exp, grad, isGradEnabled, mul, noGrad, ones, sum, tensor, pow, matmul, Tensor } from '../src/index.js';

const ref = { backend: 'reference' as const };
const f64 = { backend: 'reference' as const, dtype: 'float64' as const };

describe('autograd engine', () => {
  it('gives a scalar output the implicit gradient 1 and requires a gradient otherwise', () => {
    const x = tensor([1, 2, 3], { ...ref, requiresGrad: true });
    const y = mul(x, x);
    expect(() => y.backward()).toThrow('backward: grad can be implicitly created only for scalar outputs; got shape [3]');
    expect(() => y.backward(ones([2], ref))).toThrow(/expected grad.shape \[3\] \(the output's\); got \[2\]/);
    y.backward(tensor([1, 0, -1], ref));
    expect(x.grad!.tolist()).toEqual([2, 0, -6]);
    expect(() => tensor([1], ref).backward()).toThrow(/does not require grad and does not have a grad_fn/);
  });

  it('accumulates across backward calls and across paths (diamond graph)', () => {
    const x = tensor([2], { ...ref, requiresGrad: true });
    const a = mul(x, 3);
    const b = exp(mul(x, 0)); // constant 1, still in the graph
    const y = sum(add(mul(a, x), mul(a, b))); // 3x^2 + 3x
    y.backward();
    expect(x.grad!.item()).toBe(15);
    sum(mul(x, 2)).backward();
    expect(x.grad!.item()).toBe(17);
    x.zeroGrad();
    expect(x.grad).toBeNull();
  });

  it('reduces broadcast gradients to each input shape', () => {
    const a = tensor([1, 2, 3], { ...ref, requiresGrad: true });
    const b = tensor([[1], [10]], { ...ref, requiresGrad: true });
    sum(mul(a, b)).backward();
    expect(a.grad!.tolist()).toEqual([11, 11, 11]);
    expect(b.grad!.tolist()).toEqual([[6], [6]]);
  });

  it('noGrad records nothing; enableGrad turns recording back on; detach cuts the graph', () => {
    const x = tensor([1, 2], { ...ref, requiresGrad: true });
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      const inner = enableGrad(() => mul(x, 2));
      expect(inner.requiresGrad).toBe(true);
      return mul(x, 2);
    });
    expect(isGradEnabled()).toBe(true);
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    const d = x.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.sharesStorageWith(x)).toBe(true);
    const z = sum(add(mul(x, x), mul(d, d)));
    z.backward();
    expect(x.grad!.tolist()).toEqual([2, 4]);
    expect(z.gradFn!.name).toBe('SumBackward');
  });

  it('createGraph gives higher-order derivatives; grad() leaves .grad alone', () => {
    const x = tensor([1.5, -2], { ...f64, requiresGrad: true });
    const y = sum(pow(x, 3));
    const [g1] = grad(y, [x], { createGraph: true });
    expect(g1!.tolist()).toEqual([3 * 1.5 ** 2, 3 * 4]);
    expect(x.grad).toBeNull();
    const [g2] = grad(sum(g1!), [x]);
    expect(g2!.tolist()).toEqual([6 * 1.5, 6 * -2]);
  });

  it('retainGrad keeps the gradient of a non-leaf', () => {
    const x = tensor([1, 2], { ...ref, requiresGrad: true });
    const h = mul(x, 3).retainGrad();
    sum(mul(h, h)).backward();
    expect(h.grad!.tolist()).toEqual([6, 12]);
    expect(x.grad!.tolist()).toEqual([18, 36]);
  });

  it('guards in-place ops: leaves that require grad, and saved tensors modified before backward', () => {
    const w = tensor([1, 2], { ...ref, requiresGrad: true });
    expect(() => w.add_(1)).toThrow(/a leaf tensor that requires grad is being used in an in-place operation/);
    noGrad(() => w.sub_(tensor([0.5, 0.5], ref)));
    expect(w.tolist()).toEqual([0.5, 1.5]);
    expect(w.isLeaf).toBe(true);
    expect(w.requiresGrad).toBe(true);
    const y = exp(w);
    const z = sum(y);
    y.mul_(2);
    expect(() => z.backward()).toThrow(/modified by an in-place operation/);
    // In-place on a non-leaf rebases its history: the gradient flows through the in-place op.
    const h = mul(w, 1);
    h.mul_(3);
    sum(h).backward();
    expect(w.grad!.tolist()).toEqual([3, 3]);
  });

  it('records op names and leaves', () => {
    const a = tensor([[1, 2]], { ...ref, requiresGrad: true });
    const b = matmul(a, a.t());
    expect(a.isLeaf).toBe(true);
    expect(b.isLeaf).toBe(false);
    expect(b.gradFn!.name).toBe('MmBackward');
    expect(b).toBeInstanceOf(Tensor);
  });
});
