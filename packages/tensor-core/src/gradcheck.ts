/**
 * Numerical gradient check (torch.autograd.gradcheck, in its fast "random projection" form).
 *
 * The inputs are copied to float64 on the reference backend. The outputs are reduced to one scalar
 * L = sum_j <out_j, r_j> with fixed random weights r_j, so one backward gives dL/dx analytically, and central
 * differences (L(x + eps e_i) - L(x - eps e_i)) / (2 eps) give it numerically for every element of every float
 * input. Any wrong gradient of any output element shows up in L for almost every r, at a fraction of the cost of a
 * full Jacobian. int32 inputs (indices) are passed through unchanged and not checked.
 */
import { referenceBackend, type TypedArray } from '@formers/gpu-kernels';
import { fromHost } from './creation.js';
import { noGrad } from './grad-mode.js';
import { Generator } from './random.js';
import { fmt } from './shape.js';
import { Tensor } from './tensor.js';
import { mul } from './ops/elementwise.js';
import { sum } from './ops/reduce.js';

export interface GradcheckOptions {
  /** Finite-difference step; default 1e-6. */
  readonly eps?: number;
  /** Absolute tolerance; default 1e-5. */
  readonly atol?: number;
  /** Relative tolerance; default 1e-3 (torch's defaults). */
  readonly rtol?: number;
  /** Seed of the projection weights. */
  readonly seed?: number;
  /** Which inputs to check (default: every float input). */
  readonly checkInputs?: readonly boolean[];
}

export interface GradcheckResult {
  readonly ok: boolean;
  readonly maxAbsErr: number;
  readonly maxRelErr: number;
  /** Human-readable descriptions of the worst mismatches (at most 10). */
  readonly failures: string[];
}

/** What a checked function may return: a tensor, an array of tensors, or an object of tensors (e.g. ComplexTensor). */
export type GradcheckOutput = Tensor | readonly Tensor[] | { readonly [key: string]: Tensor };

function outputsOf(out: GradcheckOutput): Tensor[] {
  if (out instanceof Tensor) return [out];
  if (Array.isArray(out)) return [...out];
  return Object.values(out as Record<string, Tensor>).filter((v) => v instanceof Tensor);
}

/** Compare analytic and numeric gradients of `fn` at `inputs`; see the file comment. */
export function gradcheck(
  fn: (...xs: Tensor[]) => GradcheckOutput,
  inputs: readonly Tensor[],
  opts: GradcheckOptions = {},
): GradcheckResult {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-3;
  const hosts: TypedArray[] = inputs.map((x) => {
    const d = x.dataSync();
    return x.dtype === 'int32' ? d : Float64Array.from(d);
  });
  const checked = inputs.map((x, i) => x.dtype !== 'int32' && (opts.checkInputs?.[i] ?? true));
  const make = (i: number, data: TypedArray, grad: boolean) =>
    fromHost('gradcheck', data, inputs[i].shape, {
      dtype: inputs[i].dtype === 'int32' ? 'int32' : 'float64',
      backend: referenceBackend,
      requiresGrad: grad,
    });

  // Analytic gradients of L = sum_j <out_j, r_j>.
  const leaves = inputs.map((_, i) => make(i, hosts[i], checked[i]));
  const outs = outputsOf(fn(...leaves));
  outs.forEach((o, j) => {
    if (o.dtype !== 'float64') {
      throw new Error(`gradcheck: expected fn to return float64 tensors; output ${j} has dtype ${o.dtype}`);
    }
  });
  const gen = new Generator(opts.seed ?? 1234);
  const weights = outs.map((o) => Float64Array.from({ length: o.numel }, () => gen.nextNormal()));
  const rs = outs.map((o, j) => fromHost('gradcheck', weights[j], o.shape, { dtype: 'float64', backend: referenceBackend }));
  const differentiable = outs.filter((o) => o.requiresGrad);
  if (differentiable.length > 0) {
    const loss = outs
      .map((o, j) => (o.requiresGrad ? sum(mul(o, rs[j])) : null))
      .filter((v): v is Tensor => v !== null)
      .reduce((a, b) => a.add(b));
    loss.backward();
  }
  const lossAt = (xs: Tensor[]) =>
    noGrad(() => {
      let total = 0;
      outputsOf(fn(...xs)).forEach((o, j) => {
        const d = o.dataSync();
        for (let k = 0; k < d.length; k++) total += d[k] * weights[j][k];
      });
      return total;
    });

  let maxAbsErr = 0;
  let maxRelErr = 0;
  const failures: { err: number; msg: string }[] = [];
  inputs.forEach((x, i) => {
    if (!checked[i]) return;
    const analytic = leaves[i].grad ? leaves[i].grad!.dataSync() : new Float64Array(x.numel);
    for (let e = 0; e < x.numel; e++) {
      const plus = Float64Array.from(hosts[i]);
      const minus = Float64Array.from(hosts[i]);
      plus[e] += eps;
      minus[e] -= eps;
      const at = (data: Float64Array) => inputs.map((_, k) => (k === i ? make(k, data, false) : make(k, hosts[k], false)));
      const numeric = (lossAt(at(plus)) - lossAt(at(minus))) / (2 * eps);
      const a = analytic[e];
      const err = Math.abs(a - numeric);
      const rel = err / Math.max(Math.abs(numeric), 1e-12);
      if (Number.isNaN(err) || err > maxAbsErr) maxAbsErr = Number.isNaN(err) ? NaN : err;
      if (Number.isNaN(rel) || rel > maxRelErr) maxRelErr = Number.isNaN(rel) ? NaN : Math.max(maxRelErr, rel);
      if (!(err <= atol + rtol * Math.abs(numeric))) {
        failures.push({ err, msg: `input ${i} ${fmt(x.shape)} element ${e}: analytic ${a}, numeric ${numeric}, |diff| ${err}` });
      }
    }
  });
  failures.sort((p, q) => (q.err || Infinity) - (p.err || Infinity));
  return { ok: failures.length === 0, maxAbsErr, maxRelErr, failures: failures.slice(0, 10).map((f) => f.msg) };
}

/** `gradcheck` that throws an Error listing the worst mismatches when the check fails. */
export function assertGradcheck(
  fn: (...xs: Tensor[]) => GradcheckOutput,
  inputs: readonly Tensor[],
  opts: GradcheckOptions = {},
): GradcheckResult {
  const r = gradcheck(fn, inputs, opts);
  if (!r.ok) {
    throw new Error(
      `gradcheck failed (maxAbsErr ${r.maxAbsErr}, maxRelErr ${r.maxRelErr}):\n  ${r.failures.join('\n  ')}`,
    );
  }
  return r;
}
