/**
 * Assembles a WebAssembly module (binary format, spec chapter 5): a type section with one signature per
 * function, an optional imported memory, the functions and their exports. Enough for compute kernels; no
 * tables, globals, start function or data segments.
 */
import type { Code, FunctionBuilder } from './code.js';
import { uleb128 } from './leb128.js';
import { valtype } from './opcodes.js';

export interface MemoryImport {
  readonly module: string;
  readonly name: string;
  /** Sizes in 64 KiB pages. */
  readonly initialPages: number;
  readonly maximumPages: number;
  /** A shared memory (threads proposal), backed by a SharedArrayBuffer. */
  readonly shared: boolean;
}

interface FunctionEntry {
  readonly name: string | null;
  readonly fn: FunctionBuilder;
  readonly body: number[];
}

const SECTION = { type: 1, import: 2, function: 3, export: 7, code: 10 } as const;

function utf8(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb128(bytes.length), ...bytes];
}

function vector(items: readonly number[][]): number[] {
  return [...uleb128(items.length), ...items.flat()];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb128(content.length), ...content];
}

export class ModuleBuilder {
  private readonly functions: FunctionEntry[] = [];
  private memory: MemoryImport | null = null;

  importMemory(memory: MemoryImport): this {
    this.memory = memory;
    return this;
  }

  /** Add a function; returns its index for `call`. A null name keeps it internal. */
  addFunction(name: string | null, fn: FunctionBuilder, body: Code): number {
    this.functions.push({ name, fn, body: fn.encode(body) });
    return this.functions.length - 1;
  }

  /** The index the next `addFunction` will return, for calls between functions added in order. */
  get nextIndex(): number {
    return this.functions.length;
  }

  encode(): Uint8Array<ArrayBuffer> {
    const types = this.functions.map(({ fn }) => [
      0x60,
      ...vector(fn.paramTypes.map((t) => [valtype[t]])),
      ...vector(fn.resultTypes.map((t) => [valtype[t]])),
    ]);
    const bytes: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    bytes.push(...section(SECTION.type, vector(types)));
    if (this.memory) {
      const m = this.memory;
      // Limits flag: bit 0 = has maximum, bit 1 = shared (threads proposal); a shared memory needs a maximum.
      const flag = (m.shared ? 0x02 : 0) | 0x01;
      const entry = [...utf8(m.module), ...utf8(m.name), 0x02, flag, ...uleb128(m.initialPages), ...uleb128(m.maximumPages)];
      bytes.push(...section(SECTION.import, vector([entry])));
    }
    bytes.push(...section(SECTION.function, vector(this.functions.map((_, i) => uleb128(i)))));
    const exports = this.functions.flatMap((f, i) => (f.name === null ? [] : [[...utf8(f.name), 0x00, ...uleb128(i)]]));
    bytes.push(...section(SECTION.export, vector(exports)));
    bytes.push(...section(SECTION.code, vector(this.functions.map((f) => f.body))));
    return new Uint8Array(bytes);
  }
}
