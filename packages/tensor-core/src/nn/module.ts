/**
 * `Module`: the base class of every layer, as torch.nn.Module.
 *
 * A module owns three ordered registries: parameters (trainable leaves), buffers (state that is not trained, such as
 * running statistics or fixed tables) and submodules. Insertion order is kept, so `namedParameters()` and
 * `stateDict()` list names in the order the constructor registered them, as PyTorch does, and a PyTorch state_dict
 * loads with its keys unchanged (`blocks.0.attn.qkv.weight`).
 *
 * Subclasses keep typed fields for convenience and register them once:
 *
 * ```ts
 * class Affine extends Module {
 *   readonly weight: Tensor;
 *   constructor(d: number) {
 *     super();
 *     this.weight = this.registerParameter('weight', ones([d]));
 *   }
 *   forward(x: Tensor): Tensor { return x.mul(this.weight); }
 * }
 * ```
 *
 * Tensors are never swapped behind a field's back except by `to(...)`, which replaces a tensor with a converted
 * copy and updates every own field of the module that pointed at the old one. `loadStateDict` copies values into
 * the existing tensors, so fields stay valid.
 */
import { keep } from '../scope.js';
import { noGrad } from '../grad-mode.js';
import { Tensor, type BackendLike, type DType } from '../tensor.js';
import { fmt, shapesEqual } from '../shape.js';

/** A state dict: dotted PyTorch names to tensors, in registration order. */
export type StateDict = Map<string, Tensor>;

/** What `loadStateDict` accepts: a Map (e.g. from `loadSafetensors`) or a plain record. */
export type StateDictLike = ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>;

export interface LoadStateDictOptions {
  /** Require the keys to match exactly (torch default true). Shape mismatches are an error either way. */
  readonly strict?: boolean;
}

export interface LoadStateDictResult {
  /** Keys the module expects that the state dict lacks. */
  readonly missingKeys: string[];
  /** Keys in the state dict that the module does not have. */
  readonly unexpectedKeys: string[];
}

export interface RegisterBufferOptions {
  /** Include the buffer in `stateDict()` (torch default true). */
  readonly persistent?: boolean;
}

export interface RegisterParameterOptions {
  /** Whether the parameter is trained (default true, like a fresh torch.nn.Parameter). */
  readonly requiresGrad?: boolean;
}

const DTYPES: readonly string[] = ['float32', 'float64', 'int32'];

function checkName(op: string, kind: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new Error(`${op}: expected ${kind} name to be a non-empty string; got ${JSON.stringify(name)}`);
  }
  if (name.includes('.')) throw new Error(`${op}: ${kind} name can't contain "."; got "${name}"`);
}

export abstract class Module {
  /** Training mode (true after construction, as torch); switch with `train()` / `eval()`. */
  training = true;
  private readonly _parameters = new Map<string, Tensor | null>();
  private readonly _buffers = new Map<string, Tensor | null>();
  private readonly _nonPersistent = new Set<string>();
  private readonly _modules = new Map<string, Module | null>();

  /** The computation. Subclasses declare their own argument and result types. */
  abstract forward(...args: never[]): unknown;

  /** Run `forward` (torch's `module(x)`). */
  call(...args: Parameters<this['forward']>): ReturnType<this['forward']> {
    return (this.forward as (...a: unknown[]) => ReturnType<this['forward']>)(...args);
  }

  /** The class name, used in messages and `toString()` (torch's `_get_name`). */
  get className(): string {
    return this.constructor.name;
  }

  // ---- registration ------------------------------------------------------------------------------------------

  private assertFree(op: string, name: string, kind: 'parameter' | 'buffer' | 'module'): void {
    const taken =
      (kind !== 'parameter' && this._parameters.has(name)) ||
      (kind !== 'buffer' && this._buffers.has(name)) ||
      (kind !== 'module' && this._modules.has(name));
    if (taken) throw new Error(`${op}: "${name}" is already registered on ${this.className} as a different kind of member`);
  }

  /**
   * Register a trainable tensor under `name` (torch register_parameter). It must be a float leaf; `requiresGrad`
   * is switched on unless `opts.requiresGrad` is false. `null` registers an absent parameter (e.g. no bias), which
   * is skipped by `parameters()` and `stateDict()`. Returns the tensor.
   */
  registerParameter<T extends Tensor | null>(name: string, t: T, opts: RegisterParameterOptions = {}): T {
    checkName('registerParameter', 'parameter', name);
    this.assertFree('registerParameter', name, 'parameter');
    if (t !== null) {
      if (!(t instanceof Tensor)) throw new Error(`registerParameter: expected "${name}" to be a Tensor or null; got ${typeof t}`);
      if (!t.isLeaf) {
        throw new Error(`registerParameter: expected "${name}" to be a leaf tensor; got the output of ${t.gradFn?.name} (use detach())`);
      }
      if (t.dtype === 'int32') throw new Error(`registerParameter: expected "${name}" to have a float dtype; got int32`);
      t.requiresGrad_(opts.requiresGrad ?? true);
      keep(t);
    }
    this._parameters.set(name, t);
    return t;
  }

  /**
   * Register a non-trained tensor (torch register_buffer). Non-persistent buffers (`{ persistent: false }`) are
   * not part of `stateDict()`. Returns the tensor.
   */
  registerBuffer<T extends Tensor | null>(name: string, t: T, opts: RegisterBufferOptions = {}): T {
    checkName('registerBuffer', 'buffer', name);
    this.assertFree('registerBuffer', name, 'buffer');
    if (t !== null && !(t instanceof Tensor)) throw new Error(`registerBuffer: expected "${name}" to be a Tensor or null; got ${typeof t}`);
    if (t !== null) keep(t);
    this._buffers.set(name, t);
    if (opts.persistent === false) this._nonPersistent.add(name);
    else this._nonPersistent.delete(name);
    return t;
  }

  /** Register a child module (torch register_module / add_module). Returns it. */
  registerModule<M extends Module | null>(name: string, m: M): M {
    checkName('registerModule', 'module', name);
    this.assertFree('registerModule', name, 'module');
    if (m !== null && !(m instanceof Module)) throw new Error(`registerModule: expected "${name}" to be a Module or null; got ${typeof m}`);
    this._modules.set(name, m);
    return m;
  }

  // ---- traversal ---------------------------------------------------------------------------------------------

  /** Direct children with their names, in registration order. */
  *namedChildren(): IterableIterator<[string, Module]> {
    for (const [n, m] of this._modules) if (m) yield [n, m];
  }

  /** Direct children. */
  children(): Module[] {
    return [...this.namedChildren()].map(([, m]) => m);
  }

  /** This module and every descendant, depth first, with dotted names ('' for this one); each module once. */
  namedModules(prefix = '', seen = new Set<Module>()): [string, Module][] {
    if (seen.has(this)) return [];
    seen.add(this);
    const out: [string, Module][] = [[prefix, this]];
    for (const [n, m] of this.namedChildren()) out.push(...m.namedModules(prefix ? `${prefix}.${n}` : n, seen));
    return out;
  }

  /** This module and every descendant. */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  private namedMembers(kind: '_parameters' | '_buffers', prefix: string, recurse: boolean, persistentOnly: boolean): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    const mods: [string, Module][] = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [mp, m] of mods) {
      for (const [n, t] of m[kind]) {
        if (!t || seen.has(t)) continue;
        if (persistentOnly && kind === '_buffers' && m._nonPersistent.has(n)) continue;
        seen.add(t);
        out.push([mp ? `${mp}.${n}` : n, t]);
      }
    }
    return out;
  }

  /**
   * Parameters with dotted names (`blocks.0.attn.qkv.weight`), in registration order. A tensor shared by two
   * modules is listed once, under its first name (torch's remove_duplicate).
   */
  namedParameters(opts: { prefix?: string; recurse?: boolean } = {}): [string, Tensor][] {
    return this.namedMembers('_parameters', opts.prefix ?? '', opts.recurse ?? true, false);
  }

  parameters(recurse = true): Tensor[] {
    return this.namedParameters({ recurse }).map(([, t]) => t);
  }

  namedBuffers(opts: { prefix?: string; recurse?: boolean } = {}): [string, Tensor][] {
    return this.namedMembers('_buffers', opts.prefix ?? '', opts.recurse ?? true, false);
  }

  buffers(recurse = true): Tensor[] {
    return this.namedBuffers({ recurse }).map(([, t]) => t);
  }

  /** The descendant at a dotted path ('' is this module); throws naming the missing part. */
  getSubmodule(target: string): Module {
    if (target === '') return this;
    let m: Module = this;
    for (const part of target.split('.')) {
      const next = m._modules.get(part);
      if (!next) throw new Error(`getSubmodule: ${m.className} has no submodule "${part}" (looking up "${target}")`);
      m = next;
    }
    return m;
  }

  /** Call `fn` on every descendant and then on this module (torch order: children first). Returns this. */
  apply(fn: (m: Module) => void): this {
    for (const m of this.children()) m.apply(fn);
    fn(this);
    return this;
  }

  // ---- modes and gradients -----------------------------------------------------------------------------------

  /** Set training mode on this module and every descendant. Returns this. */
  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new Error(`train: expected mode to be a boolean; got ${typeof mode}`);
    this.training = mode;
    for (const m of this.children()) m.train(mode);
    return this;
  }

  /** `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /**
   * Clear every parameter's gradient (torch zero_grad with set_to_none=True, its default since 2.0). The old
   * gradient tensors are disposed, so device memory is released at once; clone a gradient first to keep it.
   */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  // ---- state dict --------------------------------------------------------------------------------------------

  /**
   * Parameters and persistent buffers under dotted PyTorch names, in registration order. The tensors are
   * detached views of the module's current values (no copy); later updates to the module do not change them,
   * since every in-place update rebinds a tensor to a new buffer.
   */
  stateDict(opts: { prefix?: string } = {}): StateDict {
    const sd: StateDict = new Map();
    const prefix = opts.prefix ?? '';
    for (const [mp, m] of this.namedModules(prefix)) {
      const key = (n: string) => (mp ? `${mp}.${n}` : n);
      for (const [n, t] of m._parameters) if (t) sd.set(key(n), t.detach());
      for (const [n, t] of m._buffers) if (t && !m._nonPersistent.has(n)) sd.set(key(n), t.detach());
    }
    return sd;
  }

  /**
   * Copy values from a state dict into this module's parameters and persistent buffers (torch load_state_dict).
   * Values are cast to each target's dtype and moved to its backend; the given tensors are never modified.
   * Everything is checked before anything is copied, so a failed load leaves the module unchanged.
   *
   * Throws when a shape differs (naming the key and both shapes), and in strict mode (the default) when keys are
   * missing or unexpected, listing them. Returns the missing and unexpected keys.
   */
  loadStateDict(sd: StateDictLike, opts: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = opts.strict ?? true;
    if (sd === null || typeof sd !== 'object') {
      throw new Error(`loadStateDict: expected a Map or record of name -> Tensor; got ${sd === null ? 'null' : typeof sd}`);
    }
    const given = new Map<string, Tensor>(sd instanceof Map ? [...sd] : Object.entries(sd as Record<string, Tensor>));
    const own = this.stateDictTargets();
    const missingKeys = [...own.keys()].filter((k) => !given.has(k));
    const unexpectedKeys = [...given.keys()].filter((k) => !own.has(k));
    const errors: string[] = [];
    if (strict && missingKeys.length > 0) errors.push(`Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(', ')}.`);
    if (strict && unexpectedKeys.length > 0) {
      errors.push(`Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}.`);
    }
    for (const [k, target] of own) {
      const src = given.get(k);
      if (src === undefined) continue;
      if (!(src instanceof Tensor)) {
        errors.push(`value for ${k}: expected a Tensor; got ${src === null ? 'null' : typeof src}.`);
      } else if (!shapesEqual(src.shape, target.shape)) {
        errors.push(
          `size mismatch for ${k}: copying a param with shape ${fmt(src.shape)} from checkpoint, ` +
            `the shape in current model is ${fmt(target.shape)}.`,
        );
      }
    }
    if (errors.length > 0) {
      throw new Error(`loadStateDict: Error(s) in loading state_dict for ${this.className}:\n\t${errors.join('\n\t')}`);
    }
    noGrad(() => {
      for (const [k, target] of own) {
        const src = given.get(k);
        if (src === undefined) continue;
        const moved = src.backend === target.backend ? src : src.to(target.backend);
        target.copy_(moved.to(target.dtype).clone());
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  /** The tensors `loadStateDict` writes to, by state-dict key. */
  private stateDictTargets(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [mp, m] of this.namedModules()) {
      const key = (n: string) => (mp ? `${mp}.${n}` : n);
      for (const [n, t] of m._parameters) if (t) out.set(key(n), t);
      for (const [n, t] of m._buffers) if (t && !m._nonPersistent.has(n)) out.set(key(n), t);
    }
    return out;
  }

  /**
   * Put `t` in place of the parameter or buffer `name` of this module (not a dotted path), updating the registry
   * and every own field that pointed at the old tensor; returns the old tensor. No checks, no requiresGrad change:
   * this is the primitive behind `functionalCall` and `to`. @internal
   */
  swapTensor(name: string, t: Tensor): Tensor {
    const reg = this._parameters.has(name) ? this._parameters : this._buffers.has(name) ? this._buffers : null;
    const old = reg?.get(name);
    if (!reg || !old) throw new Error(`swapTensor: ${this.className} has no parameter or buffer "${name}"`);
    reg.set(name, t);
    const fields = this as unknown as Record<string, unknown>;
    for (const key of Object.keys(fields)) if (fields[key] === old) fields[key] = t;
    return old;
  }

  // ---- conversion --------------------------------------------------------------------------------------------

  /**
   * Convert every parameter and buffer to a dtype (float tensors only, as torch's `module.to(dtype)`; int32
   * buffers keep their dtype) or move everything to a backend. Tensors are replaced by converted copies; the
   * registries, and every own field of a module that pointed at an old tensor, are updated. Gradients are
   * converted along with their parameters. Returns this.
   */
  to(target: DType | BackendLike): this {
    const isDtype = typeof target === 'string' && DTYPES.includes(target);
    if (isDtype && target === 'int32') throw new Error('to: expected a float dtype (float32 or float64) for a module; got int32');
    const convert = (t: Tensor): Tensor => {
      if (isDtype && t.dtype === 'int32') return t;
      return noGrad(() => t.to(target)).detach();
    };
    for (const m of this.modules()) {
      for (const [n, p] of [...m._parameters]) {
        if (!p) continue;
        const q = keep(convert(p));
        if (q === p) continue;
        if (p.grad) q.grad = keep(convert(p.grad));
        q.requiresGrad_(p.requiresGrad);
        m.swapTensor(n, q);
      }
      for (const [n, b] of [...m._buffers]) {
        if (!b) continue;
        const q = keep(convert(b));
        if (q !== b) m.swapTensor(n, q);
      }
    }
    return this;
  }

  /** `to('float64')`. */
  double(): this {
    return this.to('float64');
  }

  /** `to('float32')`. */
  float(): this {
    return this.to('float32');
  }

  /** A one-line-per-module summary, like torch's repr. */
  toString(): string {
    const lines = [`${this.className}(${this.extraRepr()}`];
    for (const [n, m] of this.namedChildren()) lines.push(`  (${n}): ${m.toString().split('\n').join('\n  ')}`);
    return lines.length === 1 ? `${lines[0]})` : `${lines.join('\n')}\n)`;
  }

  /** Extra text inside the parentheses of `toString()` (torch extra_repr). */
  protected extraRepr(): string {
    return '';
  }
}
