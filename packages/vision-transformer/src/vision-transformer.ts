/**
 * The Vision Transformer (Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words") with the position encoding and
 * the attention chosen by configuration, which also makes it CPVT (Chu et al. 2023, "Conditional Positional
 * Encodings for Vision Transformers"): `posEncoding: 'peg'` inserts the Position Encoding Generator after block 0.
 *
 * Module and parameter names follow timm's `VisionTransformer`, so a timm state_dict loads with its keys unchanged:
 * `cls_token`, `pos_embed`, `patch_embed.proj.*`, `blocks.N.{norm1,attn.qkv,attn.proj,ls1,norm2,mlp.fc1,mlp.fc2,
 * ls2}.*`, `norm.*` (token pooling) or `fc_norm.*` (average pooling, as timm's use_fc_norm), `head.*`. The PEG
 * layers are `pos_block.I.proj.0.*` as in CPVT / timm's Twins `PosConv` (I counts the PEGs in block order).
 *
 * Forward, as timm's forward_features + forward_head:
 *   tokens = PatchEmbed(x)                       (B, N, D), N = H/P * W/P
 *   [cls; tokens] (+ pos_embed)                  (B, prefix + N, D)
 *   for each block i: x = Block_i(x); x = PEG(x) when i is a PEG position
 *   x = LN(x); pool ('token': x[:, 0]; 'avg': mean of the patch tokens); fc_norm; head
 */
import { cat, Identity, init, keep, LayerNorm, Linear, Module, ModuleList, noGrad, zeros, dropout, type FactoryOptions, type Generator, type Tensor } from '@formers/tensor-core';
import { createAttentionCore, type AttentionConfig } from '@formers/attention-linear';
import { PositionEncodingGenerator, RotaryEmbedding2d, resampleAbsPosEmbed, sinCos2dPositionEncoding } from '@formers/position-encodings';
import type { AttentionCoreLike, TokenLayout } from './attention.js';
import { Block } from './block.js';
import { PatchEmbed } from './patch-embed.js';
import { resolvePositionEncoding, type PositionEncodingConfig, type PositionEncodingOption } from './position-encoding-config.js';
import { checkInt, checkOneOf, checkRange, shapeOf } from './validate.js';

/** How tokens become the feature vector, as timm's `global_pool`: '' returns all tokens. */
export type GlobalPool = 'token' | 'avg' | 'max' | 'avgmax' | '';
const POOLS: readonly GlobalPool[] = ['token', 'avg', 'max', 'avgmax', ''];

/** An attention-linear config, or a function building a core for the block's sizes. */
export type AttentionOption = AttentionConfig | ((dims: { numHeads: number; headDim: number; seqLen: number; blockIndex: number }) => AttentionCoreLike);

export interface VisionTransformerOptions extends FactoryOptions {
  /** Training image size (square number or [H, W]); sets the learned table's grid. Default 224. */
  readonly imgSize?: number | readonly [number, number];
  /** Default 16. */
  readonly patchSize?: number;
  /** Default 3. */
  readonly inChans?: number;
  /** Classes of the head; 0 = no head (features out). Default 1000. */
  readonly numClasses?: number;
  /** Default 'token'. */
  readonly globalPool?: GlobalPool;
  /** Default 768. */
  readonly embedDim?: number;
  /** Default 12. */
  readonly depth?: number;
  /** Default 12. */
  readonly numHeads?: number;
  /** Default 4. */
  readonly mlpRatio?: number;
  /** Default true. */
  readonly qkvBias?: boolean;
  /** LayerScale init value; default null (no LayerScale). */
  readonly initValues?: number | null;
  /** Prepend a class token (default true, as timm). CPVT-GAP sets false. */
  readonly classToken?: boolean;
  /** The learned table covers patches only; the class token gets none (timm's no_embed_class, default false). */
  readonly noEmbedClass?: boolean;
  /** LayerNorm before the head instead of after the blocks; default: true when globalPool is 'avg'/'max'/'avgmax' (timm). */
  readonly fcNorm?: boolean;
  /** Dropout before the head (default 0). */
  readonly dropRate?: number;
  /** Dropout after adding the position table (default 0). */
  readonly posDropRate?: number;
  readonly projDropRate?: number;
  readonly attnDropRate?: number;
  /** Stochastic depth, linearly increasing from 0 to this over the blocks (default 0, as timm). */
  readonly dropPathRate?: number;
  /** Zero-pad images whose size does not divide by the patch (default false: error). */
  readonly dynamicImgPad?: boolean;
  /** Default 'learned'. */
  readonly posEncoding?: PositionEncodingOption;
  /** Default { type: 'softmax' } (timm's attention math, inline). */
  readonly attention?: AttentionOption;
  /**
   * Apply timm's init (trunc-normal 0.02 Linear weights, ...) after construction (default true). Pass false when a
   * state_dict is loaded next anyway: layers keep torch's default init and a large model builds twice as fast.
   */
  readonly initWeights?: boolean;
}

/** Output of `forwardFeatures`: the normed tokens and where they sit. */
export interface VisionTransformerFeatures {
  /** (B, prefix + N, D). */
  readonly tokens: Tensor;
  readonly layout: TokenLayout;
}

export class VisionTransformer extends Module {
  readonly numClasses: number;
  readonly globalPool: GlobalPool;
  readonly embedDim: number;
  readonly numFeatures: number;
  readonly depth: number;
  readonly numPrefixTokens: number;
  readonly noEmbedClass: boolean;
  readonly posEncoding: PositionEncodingConfig;
  /** The patch grid of `imgSize` (the learned table's grid). */
  readonly gridSize: [number, number];
  readonly patchEmbed: PatchEmbed;
  readonly clsToken: Tensor | null;
  readonly posEmbed: Tensor | null;
  readonly blocks: ModuleList<Block>;
  readonly posBlock: ModuleList<PositionEncodingGenerator> | null;
  readonly norm: LayerNorm | Identity;
  readonly fcNorm: LayerNorm | Identity;
  readonly head: Linear | Identity;
  readonly posDropRate: number;
  readonly dropRate: number;
  private readonly pegAfter: Map<number, number>;
  private readonly generator: Generator | undefined;
  private sincosCache: { key: string; table: Tensor } | null = null;

  constructor(opts: VisionTransformerOptions = {}) {
    super();
    const op = 'VisionTransformer';
    if (opts === null || typeof opts !== 'object') throw new Error(`${op}: expected an options object; got ${opts}`);
    const img = opts.imgSize ?? 224;
    const [ih, iw] = typeof img === 'number' ? [img, img] : img;
    checkInt(op, 'opts.imgSize[0]', ih);
    checkInt(op, 'opts.imgSize[1]', iw);
    const patch = checkInt(op, 'opts.patchSize', opts.patchSize ?? 16);
    this.numClasses = checkInt(op, 'opts.numClasses', opts.numClasses ?? 1000, 0);
    this.globalPool = checkOneOf(op, 'opts.globalPool', opts.globalPool ?? 'token', POOLS);
    const dim = (this.embedDim = this.numFeatures = checkInt(op, 'opts.embedDim', opts.embedDim ?? 768));
    this.depth = checkInt(op, 'opts.depth', opts.depth ?? 12);
    const heads = checkInt(op, 'opts.numHeads', opts.numHeads ?? 12);
    if (dim % heads !== 0) throw new Error(`${op}: expected opts.embedDim (${dim}) to be divisible by opts.numHeads (${heads})`);
    const classToken = opts.classToken ?? true;
    if (this.globalPool === 'token' && !classToken) {
      throw new Error(`${op}: globalPool 'token' needs a class token; got classToken: false (use globalPool 'avg', as CPVT-GAP)`);
    }
    this.numPrefixTokens = classToken ? 1 : 0;
    this.noEmbedClass = opts.noEmbedClass ?? false;
    this.posEncoding = resolvePositionEncoding(op, opts.posEncoding, this.depth);
    const pe = this.posEncoding;
    if (pe.type === 'sincos2d' && dim % 4 !== 0) {
      throw new Error(`${op}: posEncoding 'sincos2d' needs opts.embedDim divisible by 4 (sin and cos of two axes); got ${dim}`);
    }
    this.posDropRate = checkRange(op, 'opts.posDropRate', opts.posDropRate ?? 0, 0, 1);
    this.dropRate = checkRange(op, 'opts.dropRate', opts.dropRate ?? 0, 0, 1);
    const dpr = checkRange(op, 'opts.dropPathRate', opts.dropPathRate ?? 0, 0, 0.999);
    this.generator = opts.generator;
    const f = { dtype: opts.dtype, backend: opts.backend, generator: opts.generator };
    const t = { dtype: opts.dtype ?? 'float32', backend: opts.backend };
    const useFcNorm = opts.fcNorm ?? ['avg', 'max', 'avgmax'].includes(this.globalPool);

    this.patchEmbed = this.registerModule('patch_embed', new PatchEmbed({ ...f, patchSize: patch, inChans: opts.inChans ?? 3, embedDim: dim, bias: true, dynamicImgPad: opts.dynamicImgPad }));
    this.gridSize = this.patchEmbed.gridFor(ih, iw);
    this.clsToken = classToken ? this.registerParameter('cls_token', zeros([1, 1, dim], t)) : null;
    const tableLen = (this.noEmbedClass ? 0 : this.numPrefixTokens) + this.gridSize[0] * this.gridSize[1];
    this.posEmbed = pe.type === 'learned' ? this.registerParameter('pos_embed', zeros([1, tableLen, dim], t)) : null;

    const seqLen = this.numPrefixTokens + this.gridSize[0] * this.gridSize[1];
    const blocks: Block[] = [];
    for (let i = 0; i < this.depth; i++) {
      const rope =
        pe.type === 'rope2d'
          ? new RotaryEmbedding2d({ dim: dim / heads, mode: pe.mode ?? 'axial', numHeads: heads, base: pe.base, dtype: opts.dtype, backend: opts.backend, generator: opts.generator })
          : null;
      blocks.push(
        new Block({
          ...f,
          dim,
          numHeads: heads,
          mlpRatio: opts.mlpRatio,
          qkvBias: opts.qkvBias,
          projDrop: opts.projDropRate,
          attnDrop: opts.attnDropRate,
          dropPath: this.depth > 1 ? (dpr * i) / (this.depth - 1) : dpr,
          initValues: opts.initValues,
          core: buildCore(opts.attention, { numHeads: heads, headDim: dim / heads, seqLen, blockIndex: i, ...f }),
          rope,
        }),
      );
    }
    this.blocks = this.registerModule('blocks', new ModuleList(blocks));
    this.pegAfter = new Map();
    if (pe.type === 'peg') {
      const pegs = (pe.positions ?? [0]).map((p, i) => {
        this.pegAfter.set(p, i);
        return new PositionEncodingGenerator({ ...f, dim, kernelSize: pe.kernelSize ?? 3, numPrefixTokens: this.numPrefixTokens });
      });
      this.posBlock = this.registerModule('pos_block', new ModuleList(pegs));
    } else this.posBlock = null;
    const ln = () => new LayerNorm(dim, { eps: 1e-6, dtype: opts.dtype, backend: opts.backend });
    this.norm = this.registerModule('norm', useFcNorm ? new Identity() : ln());
    this.fcNorm = this.registerModule('fc_norm', useFcNorm ? ln() : new Identity());
    this.head = this.registerModule('head', this.numClasses > 0 ? new Linear(dim, this.numClasses, f) : new Identity());
    if (opts.initWeights ?? true) this.initWeights(opts.generator);
  }

  /** timm's default init: trunc-normal(0.02) Linear weights with zero bias, cls_token N(0, 1e-6), pos_embed trunc-normal(0.02). */
  private initWeights(generator: Generator | undefined): void {
    noGrad(() => {
      for (const m of this.modules()) {
        if (m instanceof Linear) {
          init.truncNormal_(m.weight, { std: 0.02, generator });
          if (m.bias) init.zeros_(m.bias);
        }
      }
      if (this.posEmbed) init.truncNormal_(this.posEmbed, { std: 0.02, generator });
      if (this.clsToken) init.normal_(this.clsToken, { std: 1e-6, generator });
    });
  }

  /** The fixed sin-cos table (1, prefix + H W, D) for a grid, cached for the last grid. */
  private sincosTable(grid: [number, number], like: Tensor): Tensor {
    const key = `${grid[0]}x${grid[1]}:${like.dtype}:${like.backend.name}`;
    if (this.sincosCache?.key !== key) {
      const cfg = this.posEncoding as { base?: number };
      const table = sinCos2dPositionEncoding(this.embedDim, grid, { clsToken: false, base: cfg.base, dtype: like.dtype as 'float32', backend: like.backend });
      this.sincosCache?.table.dispose();
      this.sincosCache = { key, table: keep(table.unsqueeze(0)) }; // (1, H W, D)
    }
    return this.sincosCache.table;
  }

  /** Class token and the absolute position table (timm's _pos_embed); the table is resampled for a new grid. */
  private posEmbedTokens(tokens: Tensor, grid: [number, number]): Tensor {
    const b = tokens.shape[0];
    const withCls = (x: Tensor) => (this.clsToken ? cat([this.clsToken.expand([b, 1, this.embedDim]), x], 1) : x); // (B, prefix + N, D)
    const pe = this.posEncoding.type;
    if (pe === 'learned') {
      const prefix = this.noEmbedClass ? 0 : this.numPrefixTokens;
      const table = resampleAbsPosEmbed(this.posEmbed!, { oldSize: this.gridSize, newSize: grid, numPrefixTokens: prefix }); // (1, prefix' + N, D)
      return this.noEmbedClass ? withCls(tokens.add(table)) : withCls(tokens).add(table);
    }
    // MAE's table gives the class token a zero row, so adding it to the patches alone is the same thing.
    if (pe === 'sincos2d') return withCls(tokens.add(this.sincosTable(grid, tokens)));
    return withCls(tokens);
  }

  /** x (B, C, H, W) -> the normed tokens (B, prefix + N, D) and their layout. */
  forwardFeatures(x: Tensor): VisionTransformerFeatures {
    const { tokens, gridSize } = this.patchEmbed.forward(x); // (B, N, D)
    const layout: TokenLayout = { gridSize, numPrefixTokens: this.numPrefixTokens };
    let h = this.posEmbedTokens(tokens, gridSize); // (B, prefix + N, D)
    h = dropout(h, { p: this.posDropRate, training: this.training, generator: this.generator });
    let i = 0;
    for (const blk of this.blocks) {
      h = blk.forward(h, layout);
      const peg = this.pegAfter.get(i++);
      if (peg !== undefined) h = this.posBlock!.at(peg).forward(h, { gridSize });
    }
    return { tokens: this.norm.forward(h), layout };
  }

  /** Pool, fc_norm, dropout and head: tokens (B, prefix + N, D) -> logits (B, numClasses), or the pooled features with preLogits. */
  forwardHead(tokens: Tensor, opts: { preLogits?: boolean } = {}): Tensor {
    const p = this.numPrefixTokens;
    const patches = () => (p === 0 ? tokens : tokens.narrow(1, p, tokens.shape[1] - p)); // (B, N, D)
    let x: Tensor;
    switch (this.globalPool) {
      case 'token':
        x = tokens.select(1, 0); // (B, D)
        break;
      case 'avg':
        x = patches().mean(1); // (B, D)
        break;
      case 'max':
        x = patches().amax(1); // (B, D)
        break;
      case 'avgmax':
        x = patches().mean(1).add(patches().amax(1)).mul(0.5); // (B, D)
        break;
      default:
        x = tokens; // (B, prefix + N, D)
    }
    x = this.fcNorm.forward(x);
    x = dropout(x, { p: this.dropRate, training: this.training, generator: this.generator });
    return opts.preLogits ? x : this.head.forward(x);
  }

  /** x (B, C, H, W) -> logits (B, numClasses). Any H, W the patch size divides (or any, with dynamicImgPad). */
  forward(x: Tensor): Tensor {
    if (x === null || typeof x !== 'object' || x.ndim !== 4) {
      throw new Error(`VisionTransformer: expected x of shape (B, C, H, W); got ${shapeOf(x)}`);
    }
    return this.forwardHead(this.forwardFeatures(x).tokens);
  }

  /** Number of parameters (trainable or not). */
  numParams(): number {
    return this.parameters().reduce((s, t) => s + t.numel, 0);
  }
}

function buildCore(
  option: AttentionOption | undefined,
  dims: { numHeads: number; headDim: number; seqLen: number; blockIndex: number } & FactoryOptions,
): AttentionCoreLike | null {
  if (option === undefined) return null;
  if (typeof option === 'function') return option(dims);
  if (option === null || typeof option !== 'object') {
    throw new Error(`VisionTransformer: expected opts.attention to be an attention config { type, ... } or a function; got ${JSON.stringify(option)}`);
  }
  // timm's softmax math inline (no core module), unless a non-default scale or dropout asks for the full core.
  if (option.type === 'softmax' && option.scale === undefined && !option.dropout) return null;
  return createAttentionCore(option, { numHeads: dims.numHeads, headDim: dims.headDim, seqLen: dims.seqLen, dtype: dims.dtype, backend: dims.backend, generator: dims.generator });
}
