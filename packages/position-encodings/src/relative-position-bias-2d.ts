/**
 * The 2-D relative position bias of Swin Transformer (Liu et al. 2021, "Swin Transformer: Hierarchical Vision
 * Transformer using Shifted Windows", ICCV 2021, eq. 4) and BEiT (Bao et al. 2022, "BEiT: BERT Pre-Training of
 * Image Transformers", ICLR 2022): one learned scalar per head for every 2-D offset (dy, dx) between two patches
 * of an H x W window, dy in [-(H-1), H-1] and dx in [-(W-1), W-1], added to the attention logits.
 *
 * The table `relative_position_bias_table` ((2H - 1)(2W - 1) [+ 3], heads) and the index
 * (dy + H - 1)(2W - 1) + (dx + W - 1) follow timm, so Swin/BEiT weights load unchanged. With `clsToken` (BEiT),
 * three extra rows hold the class-to-patch, patch-to-class and class-to-class biases. It is the relative bias for
 * images that T5's bias is for text; a window of another size needs another table (or resampling, not offered).
 */
import { init, Module, tensor, zeros, type FactoryOptions, type Tensor } from '@formers/tensor-core';
import { gridOffsets2d } from './grid-2d.js';
import { resolveGrid, type GridSize } from './sincos-2d.js';

export interface RelativePositionBias2dOptions extends FactoryOptions {
  /** The window (patch grid) [H, W], or H for a square one. */
  readonly windowSize: GridSize;
  readonly numHeads: number;
  /** BEiT's class-token rows (default false, Swin). */
  readonly clsToken?: boolean;
}

/** timm's relative_position_index: (N, N) with N = H W (+ 1 with clsToken), host ints. */
export function relativePositionIndex2d(windowSize: GridSize, clsToken = false): Int32Array {
  const [h, w] = resolveGrid('relativePositionIndex2d', 'windowSize', windowSize);
  const patches = h * w;
  const p = clsToken ? 1 : 0;
  const n = patches + p;
  const distances = (2 * h - 1) * (2 * w - 1);
  const { dy, dx } = gridOffsets2d(h, w);
  const out = new Int32Array(n * n);
  for (let a = 0; a < patches; a++) {
    for (let b = 0; b < patches; b++) {
      out[(a + p) * n + b + p] = (dy[a * patches + b] + h - 1) * (2 * w - 1) + (dx[a * patches + b] + w - 1);
    }
  }
  if (clsToken) {
    for (let b = 0; b < n; b++) out[b] = distances; // class -> patch
    for (let a = 0; a < n; a++) out[a * n] = distances + 1; // patch -> class
    out[0] = distances + 2; // class -> class
  }
  return out;
}

export class RelativePositionBias2d extends Module {
  readonly windowSize: [number, number];
  readonly numHeads: number;
  readonly clsToken: boolean;
  /** ((2H - 1)(2W - 1) [+ 3], heads); truncated normal, std 0.02 (timm). */
  readonly relativePositionBiasTable: Tensor;
  /** (N, N) int32, a non-persistent buffer as in timm's Swin. */
  readonly relativePositionIndex: Tensor;

  constructor(opts: RelativePositionBias2dOptions) {
    super();
    const op = 'RelativePositionBias2d';
    this.windowSize = resolveGrid(op, 'opts.windowSize', opts?.windowSize);
    if (typeof opts.numHeads !== 'number' || !Number.isInteger(opts.numHeads) || opts.numHeads < 1) {
      throw new Error(`${op}: expected opts.numHeads to be an integer >= 1; got ${String(opts.numHeads)}`);
    }
    this.numHeads = opts.numHeads;
    this.clsToken = opts.clsToken ?? false;
    const [h, w] = this.windowSize;
    const rows = (2 * h - 1) * (2 * w - 1) + (this.clsToken ? 3 : 0);
    this.relativePositionBiasTable = this.registerParameter(
      'relative_position_bias_table',
      zeros([rows, this.numHeads], { dtype: opts.dtype, backend: opts.backend }),
    );
    init.truncNormal_(this.relativePositionBiasTable, { std: 0.02, generator: opts.generator });
    const n = h * w + (this.clsToken ? 1 : 0);
    this.relativePositionIndex = this.registerBuffer(
      'relative_position_index',
      tensor(relativePositionIndex2d(this.windowSize, this.clsToken), { shape: [n * n], dtype: 'int32', backend: opts.backend }),
      { persistent: false },
    ); // (N N)
  }

  /** The bias (1, heads, N, N) to add to the logits of attention over the window's N tokens. */
  forward(): Tensor {
    const n = this.windowSize[0] * this.windowSize[1] + (this.clsToken ? 1 : 0);
    const picked = this.relativePositionBiasTable.indexSelect(0, this.relativePositionIndex); // (N N, heads)
    return picked.reshape([n, n, this.numHeads]).permute([2, 0, 1]).unsqueeze(0); // (1, heads, N, N)
  }
}
