/**
 * Expression helpers for writing WebAssembly function bodies from TypeScript, in the folded (s-expression) order
 * of the text format: operands first, then the instruction. A `Code` is a nested list of bytes that `flatten`
 * turns into the body's byte sequence, so fragments compose like the expressions they stand for.
 */
import { sleb128, uleb128 } from './leb128.js';
import { blockVoid, op, valtype, type ValType } from './opcodes.js';

export type Code = readonly (number | Code)[];

export function flatten(code: Code, out: number[] = []): number[] {
  for (const c of code) {
    if (typeof c === 'number') out.push(c);
    else flatten(c, out);
  }
  return out;
}

export const i32 = (value: number): Code => [op.i32Const, sleb128(value)];
export const f32 = (value: number): Code => {
  const bytes = new Uint8Array(new Float32Array([value]).buffer);
  return [op.f32Const, [...bytes]];
};

const binop = (opcode: readonly number[]) => (a: Code, b: Code): Code => [a, b, opcode];
export const add = binop(op.i32Add);
export const sub = binop(op.i32Sub);
export const mul = binop(op.i32Mul);
export const and = binop(op.i32And);
export const shl = binop(op.i32Shl);
export const ltS = binop(op.i32LtS);
export const ltU = binop(op.i32LtU);
export const geS = binop(op.i32GeS);
export const eq = binop(op.i32Eq);
export const ne = binop(op.i32Ne);

export const f32x4Add = binop(op.f32x4Add);
export const f32x4Mul = binop(op.f32x4Mul);
/** a * b + c (relaxed SIMD). */
export const f32x4Madd = (a: Code, b: Code, c: Code): Code => [a, b, c, op.f32x4RelaxedMadd];

/** A memory immediate: alignment as log2 of the byte count, then a constant byte offset. */
const memarg = (alignLog2: number, offset: number): Code => [uleb128(alignLog2), uleb128(offset)];

export const f32Load = (addr: Code, offset = 0): Code => [addr, op.f32Load, memarg(2, offset)];
export const f32Store = (addr: Code, value: Code, offset = 0): Code => [addr, value, op.f32Store, memarg(2, offset)];
/** Unaligned-safe: the alignment immediate is a hint only; 4 is what packed float32 data guarantees. */
export const v128Load = (addr: Code, offset = 0): Code => [addr, op.v128Load, memarg(2, offset)];
export const v128Load32Splat = (addr: Code, offset = 0): Code => [addr, op.v128Load32Splat, memarg(2, offset)];
export const v128Store = (addr: Code, value: Code, offset = 0): Code => [addr, value, op.v128Store, memarg(2, offset)];
export const v128Zero: Code = [op.v128Const, new Array<number>(16).fill(0)];

export const call = (index: number, ...args: Code[]): Code => [args, op.call, uleb128(index)];

/** `if (cond) then` with no result. */
export const when = (cond: Code, then: Code): Code => [cond, op.if, blockVoid, then, op.end];
/** `if (cond) then else otherwise`, both branches leaving one value of `type`. */
export const ifElse = (type: ValType, cond: Code, then: Code, otherwise: Code): Code => [
  cond,
  op.if,
  valtype[type],
  then,
  op.else,
  otherwise,
  op.end,
];

/** A function body under construction: named parameters and locals, then the instructions. */
export class FunctionBuilder {
  private readonly names = new Map<string, number>();
  private readonly types = new Map<string, ValType>();
  private readonly extraLocals: ValType[] = [];
  readonly paramTypes: ValType[];

  constructor(
    params: Readonly<Record<string, ValType>>,
    readonly resultTypes: readonly ValType[] = [],
  ) {
    this.paramTypes = [];
    for (const [name, type] of Object.entries(params)) this.declare(name, type, this.paramTypes);
  }

  /** Declare locals (zero-initialised, as the spec guarantees). */
  locals(type: ValType, ...names: string[]): this {
    for (const name of names) this.declare(name, type, this.extraLocals);
    return this;
  }

  get(name: string): Code {
    return [op.localGet, uleb128(this.index(name))];
  }

  set(name: string, value: Code): Code {
    return [value, op.localSet, uleb128(this.index(name))];
  }

  /** `name += delta` for an i32 local. */
  inc(name: string, delta: Code): Code {
    return this.set(name, add(this.get(name), delta));
  }

  /**
   * `for (name = from; name < to; name += step) body` with signed compares. Inside `body` a `br` of depth 1
   * continues and of depth 2 breaks (the loop sits in a block).
   */
  forRange(name: string, from: Code, to: Code, step: Code, body: Code): Code {
    return [
      this.set(name, from),
      op.block, blockVoid,
      op.loop, blockVoid,
      geS(this.get(name), to), op.brIf, 1,
      body,
      this.inc(name, step),
      op.br, 0,
      op.end,
      op.end,
    ];
  }

  /** The encoded function body: local declarations (run-length grouped), instructions, end. */
  encode(body: Code): number[] {
    const groups: [number, ValType][] = [];
    for (const t of this.extraLocals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const bytes = flatten([
      uleb128(groups.length),
      groups.map(([count, t]) => [uleb128(count), valtype[t]]),
      body,
      op.end,
    ]);
    return [...uleb128(bytes.length), ...bytes];
  }

  private declare(name: string, type: ValType, list: ValType[]): void {
    if (this.names.has(name)) throw new Error(`FunctionBuilder: local "${name}" declared twice`);
    this.names.set(name, this.names.size);
    this.types.set(name, type);
    list.push(type);
  }

  private index(name: string): number {
    const i = this.names.get(name);
    if (i === undefined) throw new Error(`FunctionBuilder: unknown local "${name}"`);
    return i;
  }
}
