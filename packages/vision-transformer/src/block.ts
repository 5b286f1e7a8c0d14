/**
 * The pre-norm transformer encoder block of ViT (Dosovitskiy et al. 2021, eq. 2-3), as timm's `Block`:
 *   x = x + DropPath(LS1(Attn(LN1(x))));   x = x + DropPath(LS2(MLP(LN2(x))))
 * with LayerNorm eps 1e-6 and an exact-GELU MLP of width mlpRatio * D. Keys: `norm1`, `attn.qkv`, `attn.proj`,
 * `ls1.gamma` (with LayerScale), `norm2`, `mlp.fc1`, `mlp.fc2`, `ls2.gamma`.
 */
import { Identity, LayerNorm, MLP, Module, type FactoryOptions, type Tensor } from '@formers/tensor-core';
import { Attention, type AttentionCoreLike, type QK2dTransform, type TokenLayout } from './attention.js';
import { DropPath } from './drop-path.js';
import { LayerScale } from './layer-scale.js';
import { checkInt } from './validate.js';

export interface BlockOptions extends FactoryOptions {
  readonly dim: number;
  readonly numHeads: number;
  /** MLP hidden width / D (default 4). */
  readonly mlpRatio?: number;
  readonly qkvBias?: boolean;
  /** Dropout after attn.proj and inside the MLP (default 0). */
  readonly projDrop?: number;
  readonly attnDrop?: number;
  /** Stochastic depth probability of this block (default 0). */
  readonly dropPath?: number;
  /** LayerScale initial value; null or undefined = no LayerScale (timm's init_values=None). */
  readonly initValues?: number | null;
  /** LayerNorm eps (default 1e-6, timm's ViT). */
  readonly normEps?: number;
  readonly core?: AttentionCoreLike | null;
  readonly rope?: QK2dTransform | null;
}

export class Block extends Module {
  readonly norm1: LayerNorm;
  readonly attn: Attention;
  readonly ls1: LayerScale | Identity;
  readonly dropPath1: DropPath;
  readonly norm2: LayerNorm;
  readonly mlp: MLP;
  readonly ls2: LayerScale | Identity;
  readonly dropPath2: DropPath;

  constructor(opts: BlockOptions) {
    super();
    const op = 'Block';
    const dim = checkInt(op, 'opts.dim', opts?.dim);
    const mlpRatio = opts.mlpRatio ?? 4;
    if (typeof mlpRatio !== 'number' || !(mlpRatio > 0)) throw new Error(`${op}: expected opts.mlpRatio > 0; got ${JSON.stringify(opts.mlpRatio)}`);
    const f = { dtype: opts.dtype, backend: opts.backend, generator: opts.generator };
    const eps = opts.normEps ?? 1e-6;
    const ls = () => (opts.initValues == null ? new Identity() : new LayerScale({ dim, initValues: opts.initValues, dtype: opts.dtype, backend: opts.backend }));
    this.norm1 = this.registerModule('norm1', new LayerNorm(dim, { eps, dtype: opts.dtype, backend: opts.backend }));
    this.attn = this.registerModule(
      'attn',
      new Attention({ ...f, dim, numHeads: opts.numHeads, qkvBias: opts.qkvBias, attnDrop: opts.attnDrop, projDrop: opts.projDrop, core: opts.core, rope: opts.rope }),
    );
    this.ls1 = this.registerModule('ls1', ls());
    this.dropPath1 = this.registerModule('drop_path1', new DropPath({ p: opts.dropPath ?? 0, generator: opts.generator }));
    this.norm2 = this.registerModule('norm2', new LayerNorm(dim, { eps, dtype: opts.dtype, backend: opts.backend }));
    // timm's Mlp: int(D * mlpRatio) hidden units, exact GELU.
    this.mlp = this.registerModule('mlp', new MLP({ ...f, inFeatures: dim, hiddenFeatures: Math.floor(dim * mlpRatio), drop: opts.projDrop ?? 0 }));
    this.ls2 = this.registerModule('ls2', ls());
    this.dropPath2 = this.registerModule('drop_path2', new DropPath({ p: opts.dropPath ?? 0, generator: opts.generator }));
  }

  /** x (B, N, D) -> (B, N, D). */
  forward(x: Tensor, layout: TokenLayout): Tensor {
    const a = this.attn.forward(this.norm1.call(x), layout); // (B, N, D)
    x = x.add(this.dropPath1.call(this.ls1.forward(a)));
    const m = this.mlp.call(this.norm2.call(x)); // (B, N, D)
    return x.add(this.dropPath2.call(this.ls2.forward(m)));
  }
}
