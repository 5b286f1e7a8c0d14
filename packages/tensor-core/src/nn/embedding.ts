/** Embedding table lookup, as torch.nn.Embedding. */
import { tensor, zeros } from '../creation.js';
import { noGrad } from '../grad-mode.js';
import { where } from '../ops/elementwise.js';
import { embedding } from '../ops/indexing.js';
import type { Tensor } from '../tensor.js';
import { normal_ } from './init.js';
import { checkInt, tensorOpts, type FactoryOptions } from './factory.js';
import { Module } from './module.js';

export interface EmbeddingOptions extends FactoryOptions {
  /**
   * A row that stays zero at initialisation and receives no gradient (a padding token). Negative values count
   * from the end, as torch.
   */
  readonly paddingIdx?: number | null;
}

/**
 * Rows of `weight` (numEmbeddings, embeddingDim) picked by int32 ids of any shape: (...) -> (..., embeddingDim).
 * weight ~ N(0, 1) as torch, with the padding row zeroed.
 */
export class Embedding extends Module {
  readonly weight: Tensor;
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  /** The padding row, normalised to [0, numEmbeddings), or null. */
  readonly paddingIdx: number | null;

  constructor(numEmbeddings: number, embeddingDim: number, opts: EmbeddingOptions = {}) {
    super();
    this.numEmbeddings = checkInt('Embedding', 'numEmbeddings', numEmbeddings);
    this.embeddingDim = checkInt('Embedding', 'embeddingDim', embeddingDim);
    const p = opts.paddingIdx ?? null;
    if (p !== null && (!Number.isInteger(p) || p < -numEmbeddings || p >= numEmbeddings)) {
      throw new Error(`Embedding: expected opts.paddingIdx in [${-numEmbeddings}, ${numEmbeddings - 1}]; got ${p}`);
    }
    this.paddingIdx = p === null ? null : p < 0 ? p + numEmbeddings : p;
    this.weight = this.registerParameter('weight', zeros([numEmbeddings, embeddingDim], tensorOpts('Embedding', opts)));
    this.resetParameters(opts);
  }

  /** Re-draw weight ~ N(0, 1) and zero the padding row. */
  resetParameters(opts: Pick<FactoryOptions, 'generator'> = {}): void {
    normal_(this.weight, { generator: opts.generator });
    if (this.paddingIdx !== null) {
      const w = this.weight;
      const rows = w.shape[0];
      const host = w.dtype === 'float64' ? new Float64Array(rows) : new Float32Array(rows);
      host.fill(1);
      host[this.paddingIdx] = 0;
      const mask = tensor(host, { shape: [rows, 1], dtype: w.dtype, backend: w.backend }); // (num, 1), broadcast over D
      noGrad(() => w.copy_(where(mask, w, 0))); // +0 exactly, as torch's zero_()
      mask.dispose();
    }
  }

  /** ids (...) int32 -> (..., embeddingDim). */
  forward(ids: Tensor): Tensor {
    return embedding(ids, this.weight, { paddingIdx: this.paddingIdx });
  }

  protected override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== null ? `, paddingIdx=${this.paddingIdx}` : ''}`;
  }
}
