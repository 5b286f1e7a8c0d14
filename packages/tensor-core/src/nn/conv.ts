/** Conv1d and Conv2d layers as torch.nn.Conv1d / Conv2d, with torch's parameter names and initialisation. */
import { zeros } from '../creation.js';
import { conv1d, conv2d } from '../ops/conv.js';
import { pad } from '../ops/join.js';
import type { Tensor } from '../tensor.js';
import { calculateFanInAndFanOut, kaimingUniform_, uniform_ } from './init.js';
import { checkInt, tensorOpts, tupleOf, type FactoryOptions } from './factory.js';
import { Module } from './module.js';

/** How the border is padded: zeros (default) or one of F.pad's modes, as torch's padding_mode. */
export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

export interface ConvLayerOptions<N extends number | readonly number[]> extends FactoryOptions {
  readonly stride?: N;
  /** Implicit padding on both sides, or 'valid' (none) or 'same' (output size = input size; stride 1 only). */
  readonly padding?: N | 'same' | 'valid';
  readonly dilation?: N;
  /** Split channels into groups convolved separately; in and out channels must be divisible by it. */
  readonly groups?: number;
  /** Learn an additive per-channel bias; default true. */
  readonly bias?: boolean;
  readonly paddingMode?: PaddingMode;
}

export type Conv1dLayerOptions = ConvLayerOptions<number>;
export type Conv2dLayerOptions = ConvLayerOptions<number | readonly [number, number]>;

const MODES: readonly PaddingMode[] = ['zeros', 'reflect', 'replicate', 'circular'];

/** Shared parameters, checks and init of Conv1d and Conv2d. */
abstract class ConvNd extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[] | 'same' | 'valid';
  readonly dilation: number[];
  readonly groups: number;
  readonly paddingMode: PaddingMode;

  protected constructor(
    op: string,
    rank: number,
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly number[],
    opts: ConvLayerOptions<number | readonly number[]>,
  ) {
    super();
    this.inChannels = checkInt(op, 'inChannels', inChannels);
    this.outChannels = checkInt(op, 'outChannels', outChannels);
    this.kernelSize = tupleOf(op, 'kernelSize', kernelSize, rank, 1);
    this.stride = tupleOf(op, 'opts.stride', opts.stride ?? 1, rank, 1);
    this.dilation = tupleOf(op, 'opts.dilation', opts.dilation ?? 1, rank, 1);
    const p = opts.padding ?? 0;
    this.padding = p === 'same' || p === 'valid' ? p : tupleOf(op, 'opts.padding', p, rank, 0);
    if (this.padding === 'same' && this.stride.some((s) => s !== 1)) {
      throw new Error(`${op}: padding='same' is not supported for strided convolutions; got stride [${this.stride.join(',')}]`);
    }
    this.groups = checkInt(op, 'opts.groups', opts.groups ?? 1);
    if (inChannels % this.groups !== 0) throw new Error(`${op}: expected inChannels (${inChannels}) to be divisible by groups (${this.groups})`);
    if (outChannels % this.groups !== 0) throw new Error(`${op}: expected outChannels (${outChannels}) to be divisible by groups (${this.groups})`);
    this.paddingMode = opts.paddingMode ?? 'zeros';
    if (!MODES.includes(this.paddingMode)) {
      throw new Error(`${op}: expected opts.paddingMode one of ${MODES.join(', ')}; got ${JSON.stringify(opts.paddingMode)}`);
    }
    const t = tensorOpts(op, opts);
    this.weight = this.registerParameter('weight', zeros([outChannels, inChannels / this.groups, ...this.kernelSize], t));
    this.bias = this.registerParameter('bias', opts.bias === false ? null : zeros([outChannels], t));
    this.resetParameters(opts);
  }

  /** torch's reset_parameters: weight ~ kaiming_uniform(a = sqrt 5), bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
  resetParameters(opts: Pick<FactoryOptions, 'generator'> = {}): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5), generator: opts.generator });
    if (this.bias) {
      const { fanIn } = calculateFanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      uniform_(this.bias, { a: -bound, b: bound, generator: opts.generator });
    }
  }

  /**
   * For a non-zeros padding mode, pad explicitly with F.pad (last dim first, as F.pad orders it) and convolve
   * with no implicit padding; 'same' puts the odd element on the right, as torch.
   */
  protected explicitPad(x: Tensor): Tensor {
    const amounts: number[] = [];
    for (let i = this.kernelSize.length - 1; i >= 0; i--) {
      if (this.padding === 'valid') amounts.push(0, 0);
      else if (this.padding === 'same') {
        const total = this.dilation[i] * (this.kernelSize[i] - 1);
        const left = Math.floor(total / 2);
        amounts.push(left, total - left);
      } else amounts.push(this.padding[i], this.padding[i]);
    }
    return pad(x, amounts, { mode: this.paddingMode as 'reflect' | 'replicate' | 'circular' });
  }

  protected override extraRepr(): string {
    const pad = typeof this.padding === 'string' ? `'${this.padding}'` : `[${this.padding.join(', ')}]`;
    return (
      `${this.inChannels}, ${this.outChannels}, kernelSize=[${this.kernelSize.join(', ')}], stride=[${this.stride.join(', ')}], ` +
      `padding=${pad}, groups=${this.groups}, bias=${this.bias !== null}, paddingMode='${this.paddingMode}'`
    );
  }
}

/** 1-D convolution over (N, C_in, L) -> (N, C_out, L_out); weight (C_out, C_in / groups, k). */
export class Conv1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: number, opts: Conv1dLayerOptions = {}) {
    super('Conv1d', 1, inChannels, outChannels, kernelSize, opts);
  }

  forward(x: Tensor): Tensor {
    if (this.paddingMode !== 'zeros') {
      return conv1d(this.explicitPad(x), this.weight, this.bias, { stride: this.stride[0], dilation: this.dilation[0], groups: this.groups });
    }
    const padding = typeof this.padding === 'string' ? this.padding : this.padding[0];
    return conv1d(x, this.weight, this.bias, { stride: this.stride[0], padding, dilation: this.dilation[0], groups: this.groups });
  }
}

/** 2-D convolution over (N, C_in, H, W) -> (N, C_out, H_out, W_out); weight (C_out, C_in / groups, kH, kW). */
export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly [number, number], opts: Conv2dLayerOptions = {}) {
    super('Conv2d', 2, inChannels, outChannels, kernelSize, opts);
  }

  forward(x: Tensor): Tensor {
    const stride = this.stride as [number, number];
    const dilation = this.dilation as [number, number];
    if (this.paddingMode !== 'zeros') {
      return conv2d(this.explicitPad(x), this.weight, this.bias, { stride, dilation, groups: this.groups });
    }
    const padding = typeof this.padding === 'string' ? this.padding : (this.padding as [number, number]);
    return conv2d(x, this.weight, this.bias, { stride, padding, dilation, groups: this.groups });
  }
}
