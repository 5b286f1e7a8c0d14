/**
 * TensorFlow.js peers: tfjs-backend-wasm (XNNPACK, SIMD, single-threaded in Node) and tfjs-backend-cpu.
 * Each gets its best path: on wasm, batched products run as per-matrix 2-D, non-transposed matMuls (its fast
 * XNNPACK path takes only those; 3-D and transposeB are 10 to 100x slower), with K^T prepared outside the timing.
 */
import * as tf from '@tensorflow/tfjs-core';
// Gradients are registered separately from the ops; the MLP training step needs them.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import type { Engine, Runner } from '../engine.js';
import { randomData, type Workload } from '../workloads.js';

/** GELU, tanh approximation (Hendrycks & Gimpel 2016), from tfjs ops: tfjs has no gelu op. */
function geluTanh(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
}

function runner(backend: 'wasm' | 'cpu', w: Workload): Runner | string {
  const keep: tf.Tensor[] = [];
  const t = <T extends tf.Tensor>(x: T): T => {
    keep.push(x);
    return x;
  };
  const once = (f: () => tf.Tensor | tf.Tensor[]) => async () => {
    if (tf.getBackend() !== backend) await tf.setBackend(backend);
    // The wasm and cpu backends run kernels eagerly and synchronously: the results exist when tidy returns, and,
    // as for formers, they are not copied back into fresh JS arrays (see engines/formers.ts).
    const out = tf.tidy(f);
    for (const o of Array.isArray(out) ? out : [out]) o.dispose();
  };
  const dispose = () => keep.forEach((x) => x.dispose());
  switch (w.kind) {
    case 'gemm': {
      const transA = w.transA === true;
      const transB = w.transB === true;
      const a = t(tf.tensor2d(randomData(w.n * w.n, 1), [w.n, w.n]));
      const b = t(tf.tensor2d(randomData(w.n * w.n, 2), [w.n, w.n]));
      if (backend === 'cpu' || (!transA && !transB)) return { run: once(() => tf.matMul(a, b, transA, transB)), dispose };
      // wasm: transposed operands leave XNNPACK's fast path, so they are transposed outside the timing.
      const at = transA ? t(tf.transpose(a)) : a;
      const bt = transB ? t(tf.transpose(b)) : b;
      return { run: once(() => tf.matMul(at, bt)), dispose };
    }
    case 'bmm': {
      const a = t(tf.tensor3d(randomData(w.batch * w.m * w.k, 3), [w.batch, w.m, w.k]));
      const bShape: [number, number, number] = w.transB ? [w.batch, w.n, w.k] : [w.batch, w.k, w.n];
      const b = t(tf.tensor3d(randomData(w.batch * w.k * w.n, 4), bShape));
      if (backend === 'cpu') return { run: once(() => tf.matMul(a, b, false, w.transB)), dispose };
      const as = tf.unstack(a).map(t);
      // (k, n) each; a transposed B is transposed outside the timing.
      const bs = tf.unstack(w.transB ? tf.transpose(b, [0, 2, 1]) : b).map(t);
      return { run: once(() => as.map((ai, i) => tf.matMul(ai, bs[i]))), dispose };
    }
    case 'softmax': {
      const x = t(tf.tensor2d(randomData(w.rows * w.cols, 5), [w.rows, w.cols]));
      return { run: once(() => tf.softmax(x)), dispose };
    }
    case 'layerNorm': {
      const x = t(tf.tensor2d(randomData(w.rows * w.cols, 6), [w.rows, w.cols]));
      const g = t(tf.tensor1d(randomData(w.cols, 7)));
      const b = t(tf.tensor1d(randomData(w.cols, 8)));
      // tfjs has no layer norm op: moments over the last axis, then the affine map.
      return {
        run: once(() => {
          const { mean, variance } = tf.moments(x, -1, true);
          return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), g), b);
        }),
        dispose,
      };
    }
    case 'depthwiseConv2d': {
      const x = t(tf.tensor4d(randomData(w.c * w.h * w.w, 9), [1, w.h, w.w, w.c])); // tfjs is NHWC
      const f = t(tf.tensor4d(randomData(w.c * w.k * w.k, 10), [w.k, w.k, w.c, 1]));
      return { run: once(() => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same')), dispose };
    }
    case 'mlpStep': {
      const scale1 = 1 / Math.sqrt(w.dIn);
      const scale2 = 1 / Math.sqrt(w.dHidden);
      const w1 = tf.variable(tf.mul(tf.tensor2d(randomData(w.dIn * w.dHidden, 13), [w.dIn, w.dHidden]), scale1));
      const b1 = tf.variable(tf.zeros([w.dHidden]));
      const w2 = tf.variable(tf.mul(tf.tensor2d(randomData(w.dHidden * w.dIn, 14), [w.dHidden, w.dIn]), scale2));
      const b2 = tf.variable(tf.zeros([w.dIn]));
      keep.push(w1, b1, w2, b2);
      const x = t(tf.tensor2d(randomData(w.batch * w.dIn, 11), [w.batch, w.dIn]));
      const y = t(tf.tensor2d(randomData(w.batch * w.dIn, 12), [w.batch, w.dIn]));
      const opt = tf.train.sgd(1e-3);
      return {
        run: async () => {
          if (tf.getBackend() !== backend) await tf.setBackend(backend);
          const loss = opt.minimize(() => {
            const h = geluTanh(tf.add(tf.matMul(x, w1), b1));
            return tf.losses.meanSquaredError(y, tf.add(tf.matMul(h, w2), b2)) as tf.Scalar;
          }, true);
          loss!.dataSync();
          loss!.dispose();
        },
        dispose: () => {
          dispose();
          opt.dispose();
        },
      };
    }
  }
}

export async function tfjsEngines(): Promise<Engine[]> {
  const engines: Engine[] = [];
  for (const backend of ['wasm', 'cpu'] as const) {
    try {
      if (!(await tf.setBackend(backend))) throw new Error('setBackend returned false');
      await tf.ready();
    } catch (e) {
      console.warn(`tfjs-${backend}: skipped (${e instanceof Error ? e.message : String(e)})`);
      continue;
    }
    const note =
      backend === 'wasm'
        ? `tfjs ${tf.version_core}, SIMD ${String(tf.env().getBool('WASM_HAS_SIMD_SUPPORT'))}, threads ${String(tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'))}`
        : `tfjs ${tf.version_core}`;
    engines.push({
      name: `tfjs-${backend}`,
      note,
      prepare: async (w) => {
        if (tf.getBackend() !== backend) await tf.setBackend(backend);
        return runner(backend, w);
      },
    });
  }
  return engines;
}
