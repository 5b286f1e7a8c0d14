/**
 * The WebAssembly opcodes the formers kernels use (core spec 5.4, fixed-width SIMD and relaxed SIMD proposals).
 * Each entry is the encoded opcode; SIMD instructions are the 0xfd prefix followed by a LEB128 sub-opcode.
 */
import { uleb128 } from './leb128.js';

const simd = (sub: number): number[] => [0xfd, ...uleb128(sub)];

export const valtype = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
export type ValType = keyof typeof valtype;

/** The empty block type (a block that takes and leaves nothing on the stack). */
export const blockVoid = 0x40;

export const op = {
  unreachable: [0x00],
  block: [0x02],
  loop: [0x03],
  if: [0x04],
  else: [0x05],
  end: [0x0b],
  br: [0x0c],
  brIf: [0x0d],
  return: [0x0f],
  call: [0x10],
  drop: [0x1a],
  select: [0x1b],
  localGet: [0x20],
  localSet: [0x21],
  localTee: [0x22],
  f32Load: [0x2a],
  f32Store: [0x38],
  i32Const: [0x41],
  f32Const: [0x43],
  i32Eqz: [0x45],
  i32Eq: [0x46],
  i32Ne: [0x47],
  i32LtS: [0x48],
  i32LtU: [0x49],
  i32GtS: [0x4a],
  i32LeS: [0x4c],
  i32GeS: [0x4e],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32And: [0x71],
  i32Or: [0x72],
  i32Shl: [0x74],
  i32ShrS: [0x75],
  i32DivU: [0x6e],
  i32RemU: [0x70],
  f32Eq: [0x5b],
  f32Ne: [0x5c],
  f32Lt: [0x5d],
  f32Gt: [0x5e],
  f32Le: [0x5f],
  f32Ge: [0x60],
  f32Sqrt: [0x91],
  f32Add: [0x92],
  f32Sub: [0x93],
  f32Mul: [0x94],
  f32Div: [0x95],
  f32Min: [0x96],
  f32Max: [0x97],
  f32ConvertI32S: [0xb2],
  f32DemoteF64: [0xb6],
  f64PromoteF32: [0xbb],
  f64Add: [0xa0],
  f64Load: [0x2b],
  f64Store: [0x39],
  f32ReinterpretI32: [0xbe],
  // Fixed-width SIMD (0xfd prefix).
  v128Load: simd(0x00),
  v128Load32Splat: simd(0x09),
  v128Store: simd(0x0b),
  v128Const: simd(0x0c),
  i8x16Shuffle: simd(0x0d), // followed by 16 byte-lane indices (0-15: first operand, 16-31: second)
  i32x4Splat: simd(0x11),
  f32x4Splat: simd(0x13),
  f32x4ExtractLane: simd(0x1f),
  f64x2ExtractLane: simd(0x21),
  f64x2PromoteLowF32x4: simd(0x5f),
  f64x2Add: simd(0xf0),
  f32x4Eq: simd(0x41),
  f32x4Ne: simd(0x42),
  f32x4Lt: simd(0x43),
  f32x4Gt: simd(0x44),
  f32x4Le: simd(0x45),
  f32x4Ge: simd(0x46),
  v128And: simd(0x4e),
  v128Or: simd(0x50),
  v128Bitselect: simd(0x52),
  f32x4Nearest: simd(0x6a),
  i32x4Eq: simd(0x37),
  i32x4GtS: simd(0x3b),
  i32x4MinS: simd(0xb6),
  i32x4Shl: simd(0xab),
  i32x4ShrS: simd(0xac),
  i32x4Add: simd(0xae),
  i32x4Sub: simd(0xb1),
  f32x4Abs: simd(0xe0),
  f32x4Neg: simd(0xe1),
  f32x4Sqrt: simd(0xe3),
  f32x4Add: simd(0xe4),
  f32x4Sub: simd(0xe5),
  f32x4Mul: simd(0xe6),
  f32x4Div: simd(0xe7),
  f32x4Min: simd(0xe8), // NaN-propagating, unlike pmin
  f32x4NanMax: simd(0xe9), // NaN-propagating, unlike pmax
  f32x4Pmin: simd(0xea), // pmin: b < a ? b : a
  f32x4Max: simd(0xeb), // pmax: a < b ? b : a
  i32x4TruncSatF32x4S: simd(0xf8),
  // Relaxed SIMD: a * b + c, fused or not at the engine's choice (an FMA on x64 with FMA3 and on arm64).
  f32x4RelaxedMadd: simd(0x105),
} as const;
