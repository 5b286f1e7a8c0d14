/**
 * The optimizer base class (torch.optim.Optimizer): parameter groups with per-group options, per-parameter state,
 * `step()`, `zeroGrad()` and a state dict.
 *
 * Updates are written with ordinary tensor ops under no-grad, so they run on the parameters' own backend
 * (synchronous or not) and each parameter keeps its identity: `p.copy_(...)`-style rebinding, never a new tensor.
 * State tensors are exempt from `tidy`, so a training step may run inside `tidy(() => ...)`.
 */
import { noGrad } from '../grad-mode.js';
import { keep } from '../scope.js';
import { Tensor } from '../tensor.js';

/** Options every optimizer has. */
export interface BaseOptimizerOptions {
  /** Learning rate. */
  lr: number;
}

/** A parameter group: its parameters and its (complete) options. */
export type ParamGroup<O extends BaseOptimizerOptions> = O & {
  params: Tensor[];
  /** The lr the first scheduler saw (torch's `initial_lr`); set by LR schedulers. */
  initialLr?: number;
};

/** A group as given to a constructor: options default to the optimizer's. */
export type ParamGroupInput<O extends BaseOptimizerOptions> = Partial<O> & { params: Iterable<Tensor> };

/** What optimizers accept: parameters, or parameter groups with their own options. */
export type ParamsInput<O extends BaseOptimizerOptions> = Iterable<Tensor> | readonly ParamGroupInput<O>[];

/** Per-parameter state: tensors (moment estimates) and numbers (step counts). */
export type ParamState = Record<string, Tensor | number>;

/** An optimizer state dict: state by parameter index (counting through the groups in order), and the groups. */
export interface OptimizerStateDict {
  state: Record<number, ParamState>;
  paramGroups: (Record<string, unknown> & { params: number[] })[];
}

export abstract class Optimizer<O extends BaseOptimizerOptions = BaseOptimizerOptions> {
  readonly defaults: Readonly<O>;
  readonly paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state, created lazily at the first step that sees a gradient. */
  readonly state = new Map<Tensor, ParamState>();

  protected constructor(
    protected readonly op: string,
    params: ParamsInput<O>,
    defaults: O,
  ) {
    this.defaults = Object.freeze({ ...defaults });
    this.validate(defaults, 'options');
    const list = [...(params as Iterable<Tensor | ParamGroupInput<O>>)];
    if (list.length === 0) throw new Error(`${op}: optimizer got an empty parameter list`);
    if (list.every((x) => x instanceof Tensor)) this.addParamGroup({ params: list as Tensor[] } as unknown as ParamGroupInput<O>);
    else if (list.every((x) => !(x instanceof Tensor) && typeof x === 'object' && x !== null && 'params' in x)) {
      for (const g of list as ParamGroupInput<O>[]) this.addParamGroup(g);
    } else {
      throw new Error(`${op}: expected params to be Tensors or parameter groups { params, ...options }, not a mix`);
    }
  }

  /** Check a complete set of options; throws naming the bad one. */
  protected abstract validate(o: O, where: string): void;

  /** Apply one update to every parameter that has a gradient. */
  protected abstract update(p: Tensor, grad: Tensor, group: ParamGroup<O>, state: ParamState): void;

  /** Add a parameter group (torch add_param_group); missing options come from the defaults. */
  addParamGroup(group: ParamGroupInput<O>): void {
    if (group === null || typeof group !== 'object' || !('params' in group)) {
      throw new Error(`${this.op}: expected a parameter group { params, ...options }; got ${String(group)}`);
    }
    const params = group.params instanceof Tensor ? [group.params] : [...group.params];
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new Error(`${this.op}: expected params[${i}] to be a Tensor; got ${typeof p}`);
      if (!p.isLeaf) throw new Error(`${this.op}: can't optimize a non-leaf Tensor (params[${i}], shape [${p.shape.join(',')}])`);
      if (p.dtype === 'int32') throw new Error(`${this.op}: can't optimize an int32 Tensor (params[${i}])`);
      if (seen.has(p)) throw new Error(`${this.op}: some parameters appear in more than one parameter group (or twice in one)`);
      seen.add(p);
    });
    const full = { ...this.defaults, ...group, params } as ParamGroup<O>;
    this.validate(full, `parameter group ${this.paramGroups.length}`);
    this.paramGroups.push(full);
  }

  /** Clear the gradient of every parameter (set to null, torch's default); old gradients are disposed. */
  zeroGrad(): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  /**
   * One optimisation step over every parameter with a gradient. With `closure` (which should recompute the loss
   * and call backward), the closure runs first under grad mode and its loss is returned.
   */
  step(closure?: () => Tensor): Tensor | undefined {
    const loss = closure ? closure() : undefined;
    noGrad(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          if (!p.grad) continue;
          let st = this.state.get(p);
          if (!st) this.state.set(p, (st = {}));
          this.update(p, p.grad, group, st);
        }
      }
    });
    return loss;
  }

  /** Replace a state tensor, keeping the new one out of `tidy` and releasing the old one. */
  protected setState(st: ParamState, key: string, value: Tensor): void {
    const old = st[key];
    st[key] = keep(value);
    if (old instanceof Tensor && old !== value) old.dispose();
  }

  /** Write new values into a parameter in place (it keeps its identity and its `requiresGrad`). */
  protected assign(p: Tensor, value: Tensor): void {
    p.copy_(value);
  }

  /**
   * The state and the group options, with parameters replaced by their index (torch layout). State tensors are
   * detached views, not copies.
   */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...opts } = g;
      return {
        ...(opts as Record<string, unknown>),
        params: params.map((p) => {
          if (!index.has(p)) index.set(p, index.size);
          return index.get(p)!;
        }),
      };
    });
    const state: Record<number, ParamState> = {};
    for (const [p, st] of this.state) {
      const i = index.get(p);
      if (i === undefined) continue;
      state[i] = Object.fromEntries(Object.entries(st).map(([k, v]) => [k, v instanceof Tensor ? v.detach() : v]));
    }
    return { state, paramGroups };
  }

  /**
   * Restore state and group options from `stateDict()`. Group count and sizes must match; state tensors are
   * copied (cast to each parameter's dtype and moved to its backend), never aliased.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    if (!sd || typeof sd !== 'object' || !Array.isArray(sd.paramGroups) || typeof sd.state !== 'object') {
      throw new Error(`${this.op}.loadStateDict: expected { state, paramGroups } from stateDict(); got ${String(sd)}`);
    }
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new Error(
        `${this.op}.loadStateDict: loaded state dict has ${sd.paramGroups.length} parameter groups; the optimizer has ${this.paramGroups.length}`,
      );
    }
    const byIndex = new Map<number, Tensor>();
    sd.paramGroups.forEach((g, gi) => {
      const own = this.paramGroups[gi].params;
      if (!Array.isArray(g.params) || g.params.length !== own.length) {
        throw new Error(
          `${this.op}.loadStateDict: loaded parameter group ${gi} has ${g.params?.length} parameters; the optimizer's has ${own.length}`,
        );
      }
      g.params.forEach((idx, j) => byIndex.set(idx, own[j]));
    });
    for (const key of Object.keys(sd.state)) {
      if (!byIndex.has(Number(key))) throw new Error(`${this.op}.loadStateDict: state for parameter index ${key} matches no parameter`);
    }
    noGrad(() => {
      for (const st of this.state.values()) for (const v of Object.values(st)) if (v instanceof Tensor) v.dispose();
      this.state.clear();
      for (const [key, st] of Object.entries(sd.state)) {
        const p = byIndex.get(Number(key))!;
        const copy: ParamState = {};
        for (const [k, v] of Object.entries(st)) {
          if (v instanceof Tensor) {
            const moved = v.backend === p.backend ? v : v.to(p.backend);
            copy[k] = keep((v.dtype === 'int32' ? moved : moved.to(p.dtype)).clone());
          } else copy[k] = v;
        }
        this.state.set(p, copy);
      }
      sd.paramGroups.forEach((g, gi) => {
        const { params: _ignored, ...opts } = g;
        const merged = { ...this.paramGroups[gi], ...opts, params: this.paramGroups[gi].params } as ParamGroup<O>;
        this.validate(merged, `loaded parameter group ${gi}`);
        this.paramGroups[gi] = merged;
      });
    });
  }
}

/** Throw unless `v` is a finite number >= `min` (and < `below` when given). @internal */
export function checkNumber(op: string, name: string, v: unknown, min: number, below?: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (below !== undefined && v >= below)) {
    const range = below === undefined ? `>= ${min}` : `in [${min}, ${below})`;
    throw new Error(`${op}: expected ${name} to be a finite number ${range}; got ${JSON.stringify(v)}`);
  }
}
