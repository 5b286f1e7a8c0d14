/**
 * The Mamba language-model backbone (Gu and Dao 2023, arXiv:2312.00752, Section 3.4), with the module structure
 * and state_dict names of HuggingFace transformers' `MambaModel`, so that its safetensors checkpoint loads with the
 * keys unchanged:
 *
 *   embeddings.weight                         (vocab, D)
 *   layers.{i}.norm.weight                    RMSNorm before each mixer (eps layerNormEpsilon)
 *   layers.{i}.mixer.{in_proj, conv1d, x_proj, dt_proj, out_proj}.*, layers.{i}.mixer.A_log, layers.{i}.mixer.D
 *   norm_f.weight                             the final RMSNorm
 *
 * Each layer is h <- h + mixer(norm(h)) (pre-norm residual); the output is norm_f(h), HF's `last_hidden_state`.
 * `fromHFStateDict` also accepts a `MambaForCausalLM` (prefix `backbone.`) or a mamba_ssm checkpoint
 * (`embedding.`, renamed as HF's load hook does).
 */
import { Embedding, Module, ModuleList, RMSNorm, type FactoryOptions, type Tensor } from '@formers/tensor-core';
import { Mamba, type MambaOptions, type MambaState } from './mamba.js';

export interface MambaModelOptions extends FactoryOptions {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly numHiddenLayers: number;
  /** MambaConfig's names and defaults: state_size 16, conv_kernel 4, expand 2, time_step_rank 'auto'. */
  readonly stateSize?: number;
  readonly convKernel?: number;
  readonly expand?: number;
  readonly timeStepRank?: number | 'auto';
  /** RMSNorm epsilon; default 1e-5 (MambaConfig.layer_norm_epsilon). */
  readonly layerNormEpsilon?: number;
  readonly useBias?: boolean;
  readonly useConvBias?: boolean;
  readonly scanMode?: MambaOptions['scanMode'];
}

function checkInt(name: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new Error(`MambaModel: expected ${name} to be an integer >= ${min}; got ${JSON.stringify(v)}`);
  return v;
}

/** One residual layer: h + mixer(norm(h)) (HF's MambaBlock). */
export class MambaResidualBlock extends Module {
  readonly norm: RMSNorm;
  readonly mixer: Mamba;

  constructor(hiddenSize: number, eps: number, mixer: MambaOptions, f: FactoryOptions) {
    super();
    this.norm = this.registerModule('norm', new RMSNorm(hiddenSize, { eps, dtype: f.dtype, backend: f.backend }));
    this.mixer = this.registerModule('mixer', new Mamba(hiddenSize, { ...mixer, ...f }));
  }

  forward(h: Tensor): Tensor {
    return h.add(this.mixer.call(this.norm.call(h) as Tensor) as Tensor); // (B, L, D)
  }

  step(h: Tensor, state: MambaState): { out: Tensor; state: MambaState } {
    const r = this.mixer.step(this.norm.call(h) as Tensor, state); // (B, D)
    return { out: h.add(r.out), state: r.state };
  }
}

export class MambaModel extends Module {
  readonly embeddings: Embedding;
  readonly layers: ModuleList<MambaResidualBlock>;
  readonly normF: RMSNorm;
  readonly vocabSize: number;
  readonly hiddenSize: number;

  constructor(opts: MambaModelOptions) {
    super();
    if (!opts || typeof opts !== 'object') throw new Error(`MambaModel: expected an options object { vocabSize, hiddenSize, numHiddenLayers }; got ${String(opts)}`);
    this.vocabSize = checkInt('opts.vocabSize', opts.vocabSize);
    this.hiddenSize = checkInt('opts.hiddenSize', opts.hiddenSize);
    const layers = checkInt('opts.numHiddenLayers', opts.numHiddenLayers);
    const eps = opts.layerNormEpsilon ?? 1e-5;
    const f = { dtype: opts.dtype, backend: opts.backend, generator: opts.generator };
    const mixer: MambaOptions = {
      dState: opts.stateSize ?? 16,
      dConv: opts.convKernel ?? 4,
      expand: opts.expand ?? 2,
      dtRank: opts.timeStepRank ?? 'auto',
      bias: opts.useBias ?? false,
      convBias: opts.useConvBias ?? true,
      scanMode: opts.scanMode,
    };
    this.embeddings = this.registerModule('embeddings', new Embedding(this.vocabSize, this.hiddenSize, f));
    this.layers = this.registerModule(
      'layers',
      new ModuleList(Array.from({ length: layers }, () => new MambaResidualBlock(this.hiddenSize, eps, mixer, f))),
    );
    this.normF = this.registerModule('norm_f', new RMSNorm(this.hiddenSize, { eps, dtype: opts.dtype, backend: opts.backend }));
  }

  /**
   * A HF `MambaModel` / `MambaForCausalLM` / mamba_ssm state_dict in this model's names: strips a leading
   * `backbone.`, renames `embedding.` to `embeddings.` and drops `lm_head.*` (tied to the embeddings in HF).
   */
  static hfKeys(sd: Map<string, Tensor> | Record<string, Tensor>): Map<string, Tensor> {
    const entries = sd instanceof Map ? [...sd.entries()] : Object.entries(sd);
    const out = new Map<string, Tensor>();
    for (const [k0, v] of entries) {
      let k = k0.startsWith('backbone.') ? k0.slice('backbone.'.length) : k0;
      if (k.startsWith('lm_head.')) continue;
      if (k.startsWith('embedding.')) k = 'embeddings.' + k.slice('embedding.'.length);
      out.set(k, v);
    }
    return out;
  }

  private checkIds(op: string, ids: Tensor, rank: number): void {
    if (!ids || ids.ndim !== rank || ids.dtype !== 'int32') {
      throw new Error(`MambaModel.${op}: expected int32 token ids of shape ${rank === 2 ? '[B, L]' : '[B]'}; got ${ids ? `${ids.dtype} [${ids.shape.join(',')}]` : String(ids)}`);
    }
  }

  /** input ids (B, L) int32 -> last hidden state norm_f(h) (B, L, D). */
  forward(inputIds: Tensor): Tensor {
    this.checkIds('forward', inputIds, 2);
    let h = this.embeddings.call(inputIds) as Tensor; // (B, L, D)
    for (const layer of this.layers) h = layer.call(h) as Tensor; // (B, L, D)
    return this.normF.call(h) as Tensor; // (B, L, D)
  }

  /** The zero inference cache of every layer. */
  initialState(batch: number): MambaState[] {
    return [...this.layers].map((l) => l.mixer.initialState(batch));
  }

  /** One token per sequence: ids (B) int32 and the caches -> the last hidden state (B, D) and the next caches. */
  step(ids: Tensor, states: readonly MambaState[]): { hidden: Tensor; states: MambaState[] } {
    this.checkIds('step', ids, 1);
    const layers = [...this.layers];
    if (!Array.isArray(states) || states.length !== layers.length) {
      throw new Error(`MambaModel.step: expected one state per layer (${layers.length}) from initialState; got ${Array.isArray(states) ? states.length : String(states)}`);
    }
    let h = this.embeddings.call(ids) as Tensor; // (B, D)
    const next: MambaState[] = [];
    layers.forEach((l, i) => {
      const r = l.step(h, states[i]);
      h = r.out;
      next.push(r.state);
    });
    return { hidden: this.normF.call(h) as Tensor, states: next };
  }
}
