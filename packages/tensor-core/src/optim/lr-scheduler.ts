/**
 * Learning-rate schedulers: they set `lr` on an optimizer's parameter groups as a function of the step count.
 * As in torch, the constructor applies step 0 at once, and `step()` is called once per step after
 * `optimizer.step()`.
 */
import type { BaseOptimizerOptions, Optimizer } from './optimizer.js';

export abstract class LRScheduler {
  /** The step count: 0 after construction, +1 per `step()` (torch's last_epoch). */
  lastEpoch: number;
  /** Each group's lr when the first scheduler was attached (torch `initial_lr`). */
  readonly baseLrs: number[];
  private lastLrs: number[] = [];

  protected constructor(
    readonly optimizer: Optimizer<BaseOptimizerOptions>,
    lastEpoch = -1,
  ) {
    if (!optimizer || !Array.isArray(optimizer.paramGroups)) {
      throw new Error(`${new.target.name}: expected an Optimizer; got ${String(optimizer)}`);
    }
    if (!Number.isInteger(lastEpoch) || lastEpoch < -1) throw new Error(`${new.target.name}: expected lastEpoch to be an integer >= -1; got ${lastEpoch}`);
    for (const g of optimizer.paramGroups) if (g.initialLr === undefined) g.initialLr = g.lr;
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
    this.lastEpoch = lastEpoch;
  }

  /** The lr of every group at step `lastEpoch` (closed form). */
  protected abstract lrAt(step: number): number[];

  /** Advance one step and write the new lrs into the optimizer. */
  step(): void {
    this.lastEpoch += 1;
    const lrs = this.lrAt(this.lastEpoch);
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = lrs[i]));
    this.lastLrs = lrs;
  }

  /** The lrs the last `step()` set (torch get_last_lr). */
  getLastLr(): number[] {
    return [...this.lastLrs];
  }

  stateDict(): { lastEpoch: number; baseLrs: number[] } {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs] };
  }

  /** Restore the step count (the lrs are recomputed at the next `step()`). */
  loadStateDict(sd: { lastEpoch: number; baseLrs?: number[] }): void {
    if (!sd || !Number.isInteger(sd.lastEpoch)) throw new Error(`LRScheduler.loadStateDict: expected { lastEpoch }; got ${JSON.stringify(sd)}`);
    this.lastEpoch = sd.lastEpoch;
    if (sd.baseLrs) {
      if (sd.baseLrs.length !== this.baseLrs.length) {
        throw new Error(`LRScheduler.loadStateDict: expected ${this.baseLrs.length} base lrs; got ${sd.baseLrs.length}`);
      }
      this.baseLrs.splice(0, this.baseLrs.length, ...sd.baseLrs);
    }
  }
}

/** lr = baseLr * lrLambda(step), with one lambda for all groups or one per group (torch LambdaLR). */
export class LambdaLR extends LRScheduler {
  private readonly lambdas: ((step: number) => number)[];

  constructor(optimizer: Optimizer<BaseOptimizerOptions>, lrLambda: ((step: number) => number) | readonly ((step: number) => number)[], opts: { lastEpoch?: number } = {}) {
    super(optimizer, opts.lastEpoch ?? -1);
    const n = optimizer.paramGroups.length;
    const list = typeof lrLambda === 'function' ? new Array(n).fill(lrLambda) : [...lrLambda];
    if (list.length !== n || !list.every((f) => typeof f === 'function')) {
      throw new Error(`LambdaLR: expected one function or ${n} (one per parameter group); got ${typeof lrLambda === 'function' ? 1 : list.length}`);
    }
    this.lambdas = list;
    this.step();
  }

  protected lrAt(step: number): number[] {
    return this.baseLrs.map((base, i) => {
      const f = this.lambdas[i](step);
      if (typeof f !== 'number' || !Number.isFinite(f)) throw new Error(`LambdaLR: lrLambda(${step}) for group ${i} returned ${f}; expected a finite number`);
      return base * f;
    });
  }
}

/**
 * Cosine annealing (Loshchilov & Hutter 2017, without restarts), torch CosineAnnealingLR in closed form:
 * lr = etaMin + (base - etaMin) (1 + cos(pi step / tMax)) / 2. torch updates recursively; the values agree to
 * rounding unless the lr is changed from outside. Past tMax the cosine continues (period 2 tMax), as torch's.
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: Optimizer<BaseOptimizerOptions>, opts: { tMax: number; etaMin?: number; lastEpoch?: number }) {
    super(optimizer, opts?.lastEpoch ?? -1);
    if (!Number.isInteger(opts?.tMax) || opts.tMax < 1) throw new Error(`CosineAnnealingLR: expected opts.tMax to be an integer >= 1; got ${opts?.tMax}`);
    const etaMin = opts.etaMin ?? 0;
    if (!Number.isFinite(etaMin) || etaMin < 0) throw new Error(`CosineAnnealingLR: expected opts.etaMin >= 0; got ${etaMin}`);
    this.tMax = opts.tMax;
    this.etaMin = etaMin;
    this.step();
  }

  protected lrAt(step: number): number[] {
    return this.baseLrs.map((base) => this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * step) / this.tMax))) / 2);
  }
}

export interface CosineWithWarmupOptions {
  /** Steps of linear warmup from 0 to the base lr. */
  readonly warmupSteps: number;
  /** Total steps; the cosine runs from warmupSteps to totalSteps and then stays at minLr. */
  readonly totalSteps: number;
  /** The lr the cosine decays to (an absolute lr, as timm's lr_min); default 0. */
  readonly minLr?: number;
}

/**
 * The lr at `step` for a base lr: linear warmup base * step / warmupSteps, then a half cosine from base down to
 * minLr over the remaining steps (as HF transformers' get_cosine_schedule_with_warmup with a floor), constant
 * minLr after totalSteps.
 */
export function cosineWithWarmupLr(step: number, baseLr: number, opts: CosineWithWarmupOptions): number {
  const { warmupSteps, totalSteps } = opts;
  const minLr = opts.minLr ?? 0;
  if (step < warmupSteps) return (baseLr * step) / Math.max(1, warmupSteps);
  const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
  return minLr + (baseLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/**
 * A LambdaLR that runs `cosineWithWarmupLr` for every group. Note the first step has lr 0 (warmup starts from 0,
 * as in HF transformers) unless warmupSteps is 0.
 */
export function cosineWithWarmup(optimizer: Optimizer<BaseOptimizerOptions>, opts: CosineWithWarmupOptions): LambdaLR {
  if (!opts || !Number.isInteger(opts.warmupSteps) || opts.warmupSteps < 0) {
    throw new Error(`cosineWithWarmup: expected opts.warmupSteps to be an integer >= 0; got ${opts?.warmupSteps}`);
  }
  if (!Number.isInteger(opts.totalSteps) || opts.totalSteps < opts.warmupSteps) {
    throw new Error(`cosineWithWarmup: expected opts.totalSteps to be an integer >= warmupSteps (${opts.warmupSteps}); got ${opts.totalSteps}`);
  }
  const minLr = opts.minLr ?? 0;
  if (!Number.isFinite(minLr) || minLr < 0) throw new Error(`cosineWithWarmup: expected opts.minLr >= 0; got ${minLr}`);
  const lambdas = optimizer.paramGroups.map((g) => {
    const base = g.initialLr ?? g.lr;
    return (step: number) => (base === 0 ? 0 : cosineWithWarmupLr(step, base, opts) / base);
  });
  return new LambdaLR(optimizer, lambdas);
}
