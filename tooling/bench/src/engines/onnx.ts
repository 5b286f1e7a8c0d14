/** onnxruntime-node (CPU execution provider), fed one-node ONNX graphs built in code (onnx-model.ts). */
import * as ort from 'onnxruntime-node';
import type { Engine, Runner } from '../engine.js';
import { randomData, type Workload } from '../workloads.js';
import { singleNodeModel, type SingleNodeModel } from './onnx-model.js';

interface Spec {
  readonly model: SingleNodeModel;
  readonly data: readonly Float32Array[];
}

function spec(w: Workload): Spec | string {
  switch (w.kind) {
    case 'gemm':
      if (w.transA || w.transB) {
        // ONNX Gemm (2-D) has its own transA/transB attributes: the runtime's transposed path.
        return {
          model: {
            opType: 'Gemm',
            opset: 17,
            attributes: [{ name: 'transA', int: w.transA ? 1 : 0 }, { name: 'transB', int: w.transB ? 1 : 0 }],
            inputs: [{ name: 'a', shape: [w.n, w.n] }, { name: 'b', shape: [w.n, w.n] }],
            output: { name: 'c', shape: [w.n, w.n] },
          },
          data: [randomData(w.n * w.n, 1), randomData(w.n * w.n, 2)],
        };
      }
      return {
        model: { opType: 'MatMul', opset: 17, inputs: [{ name: 'a', shape: [w.n, w.n] }, { name: 'b', shape: [w.n, w.n] }], output: { name: 'c', shape: [w.n, w.n] } },
        data: [randomData(w.n * w.n, 1), randomData(w.n * w.n, 2)],
      };
    case 'bmm': {
      // MatMul has no transpose flag, so a transposed B (BH, n, k) is transposed to (BH, k, n) outside the timing.
      let b = randomData(w.batch * w.k * w.n, 4);
      if (w.transB) {
        const bt = new Float32Array(b.length);
        for (let h = 0; h < w.batch; h++) {
          for (let j = 0; j < w.n; j++) for (let d = 0; d < w.k; d++) bt[(h * w.k + d) * w.n + j] = b[(h * w.n + j) * w.k + d];
        }
        b = bt;
      }
      return {
        model: {
          opType: 'MatMul',
          opset: 17,
          inputs: [{ name: 'a', shape: [w.batch, w.m, w.k] }, { name: 'b', shape: [w.batch, w.k, w.n] }],
          output: { name: 'c', shape: [w.batch, w.m, w.n] },
        },
        data: [randomData(w.batch * w.m * w.k, 3), b],
      };
    }
    case 'softmax':
      return {
        model: { opType: 'Softmax', opset: 17, attributes: [{ name: 'axis', int: 1 }], inputs: [{ name: 'x', shape: [w.rows, w.cols] }], output: { name: 'y', shape: [w.rows, w.cols] } },
        data: [randomData(w.rows * w.cols, 5)],
      };
    case 'layerNorm':
      return {
        model: {
          opType: 'LayerNormalization',
          opset: 17,
          attributes: [{ name: 'axis', int: 1 }],
          inputs: [{ name: 'x', shape: [w.rows, w.cols] }, { name: 'scale', shape: [w.cols] }, { name: 'bias', shape: [w.cols] }],
          output: { name: 'y', shape: [w.rows, w.cols] },
        },
        data: [randomData(w.rows * w.cols, 6), randomData(w.cols, 7), randomData(w.cols, 8)],
      };
    case 'depthwiseConv2d': {
      const pad = (w.k - 1) / 2;
      return {
        model: {
          opType: 'Conv',
          opset: 17,
          attributes: [{ name: 'group', int: w.c }, { name: 'kernel_shape', ints: [w.k, w.k] }, { name: 'pads', ints: [pad, pad, pad, pad] }],
          inputs: [{ name: 'x', shape: [1, w.c, w.h, w.w] }, { name: 'w', shape: [w.c, 1, w.k, w.k] }],
          output: { name: 'y', shape: [1, w.c, w.h, w.w] },
        },
        data: [randomData(w.c * w.h * w.w, 9), randomData(w.c * w.k * w.k, 10)],
      };
    }
    case 'mlpStep':
      return 'inference runtime (no training step)';
  }
}

export async function onnxEngine(): Promise<Engine | null> {
  try {
    const probe = await ort.InferenceSession.create(
      singleNodeModel({ opType: 'MatMul', opset: 17, inputs: [{ name: 'a', shape: [1, 1] }, { name: 'b', shape: [1, 1] }], output: { name: 'c', shape: [1, 1] } }),
    );
    await probe.release();
  } catch (e) {
    console.warn(`onnxruntime-node: skipped (${e instanceof Error ? e.message : String(e)})`);
    return null;
  }
  return {
    name: 'onnxruntime-node',
    note: `ort ${ort.env.versions?.common ?? ''}, CPU EP, default intra-op threads, no spin-waiting`.trim(),
    prepare: async (w): Promise<Runner | string> => {
      const s = spec(w);
      if (typeof s === 'string') return s;
      // ORT's intra-op threads spin for a while after each run; in one process with the other engines that spinning
      // steals a core from whichever engine runs next, so it is turned off (its compute is unchanged).
      const session = await ort.InferenceSession.create(singleNodeModel(s.model), {
        graphOptimizationLevel: 'all',
        extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
      });
      const feeds: Record<string, ort.Tensor> = {};
      s.model.inputs.forEach((input, i) => {
        feeds[input.name] = new ort.Tensor('float32', s.data[i], [...input.shape]);
      });
      return {
        run: async () => {
          const out = await session.run(feeds);
          (out[s.model.output.name].data as Float32Array).length;
        },
        dispose: () => void session.release(),
      };
    },
  };
}
