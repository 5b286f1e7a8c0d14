/**
 * Running one golden case with formers: upload the stored inputs and params, compute the outputs through the
 * registered op, compare them, then backpropagate L = sum_o sum(output.o * cotangent.o) and compare the gradients.
 */
import type { Backend } from '@formers/gpu-kernels';
import { add, mul, sum, tensor, type Tensor } from '@formers/tensor-core';
import type { SafetensorsEntry } from '@formers/tensor-core';
import type { ConformanceCase } from './case-file.js';
import { compareTensor, type TensorCheck } from './compare.js';
import { getConformanceOp, type ConformanceTensors } from './registry.js';

/** Outcome of one case. */
export interface CaseResult {
  name: string;
  op: string;
  pass: boolean;
  /** Per-tensor comparisons (outputs first, then gradients). */
  checks: TensorCheck[];
  /** Largest errors over all checks. */
  maxAbsErr: number;
  maxRelErr: number;
  /** Set when the case could not run (unknown op, an exception, a missing output). */
  error?: string;
  rtol: number;
  atol: number;
}

/** Run a parsed case on `backend`. Never throws: problems are reported in the result. */
export async function runConformanceCase(c: ConformanceCase, backend: Backend): Promise<CaseResult> {
  const result: CaseResult = { name: c.name, op: c.op, pass: false, checks: [], maxAbsErr: 0, maxRelErr: 0, rtol: c.rtol, atol: c.atol };
  const fn = getConformanceOp(c.op);
  if (!fn) {
    result.error = `unknown op "${c.op}" (no registerConformanceOp for it)`;
    return result;
  }
  const created: Tensor[] = [];
  try {
    const upload = (e: SafetensorsEntry, requiresGrad: boolean): Tensor => {
      const isInt = e.data instanceof Int32Array;
      const t = tensor(e.data, { shape: e.shape, dtype: isInt ? 'int32' : c.dtype, backend, requiresGrad: requiresGrad && !isInt });
      created.push(t);
      return t;
    };
    const leaves = (m: Map<string, SafetensorsEntry>): ConformanceTensors =>
      Object.fromEntries([...m].map(([n, e]) => [n, upload(e, c.grads.has(n))]));
    const inputs = leaves(c.inputs);
    const params = leaves(c.params);
    const outputs = fn(inputs, params, c.config, { backend, dtype: c.dtype });
    if (outputs === null || typeof outputs !== 'object') throw new Error(`op "${c.op}" returned ${String(outputs)}, expected a record of tensors`);

    const got = Object.keys(outputs).sort();
    const want = [...c.outputs.keys()].sort();
    const missing = want.filter((n) => !(n in outputs));
    const extra = got.filter((n) => !c.outputs.has(n));
    if (missing.length || extra.length) {
      throw new Error(`outputs differ: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`);
    }
    for (const [n, e] of c.outputs) {
      const t = outputs[n];
      result.checks.push(compareTensor(`output.${n}`, await t.data(), t.shape, e.data, e.shape, c));
    }

    if (c.grads.size > 0) {
      let loss: Tensor | null = null;
      for (const [n, cot] of c.cotangents) {
        const out = outputs[n];
        if (!out.requiresGrad) throw new Error(`output.${n} has a cotangent but does not require grad (no autograd path)`);
        const term = sum(mul(out, upload(cot, false)));
        loss = loss === null ? term : add(loss, term);
      }
      loss!.backward();
      for (const [n, e] of c.grads) {
        const leaf = inputs[n] ?? params[n];
        if (leaf.grad === null) {
          // torch reports an unused input's gradient as zeros (allow_unused); so must an op that ignores it.
          result.checks.push(compareTensor(`grad.${n}`, new Float64Array(e.data.length), e.shape, e.data, e.shape, c));
        } else {
          result.checks.push(compareTensor(`grad.${n}`, await leaf.grad.data(), leaf.grad.shape, e.data, e.shape, c));
        }
      }
    }
  } catch (e) {
    result.error = (e as Error).message ?? String(e);
  } finally {
    for (const t of created) {
      t.grad?.dispose();
      t.dispose();
    }
  }
  for (const ch of result.checks) {
    result.maxAbsErr = Math.max(result.maxAbsErr, ch.maxAbsErr);
    result.maxRelErr = Math.max(result.maxRelErr, ch.maxRelErr);
  }
  result.pass = result.error === undefined && result.checks.length > 0 && result.checks.every((ch) => ch.pass);
  return result;
}
