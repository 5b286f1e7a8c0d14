/**
 * The safetensors dtype table and the exact conversions between on-disk element types and the host arrays
 * formers computes with (Float32Array, Float64Array, Int32Array).
 *
 * Every read goes through a DataView with explicit little-endian access (the safetensors byte order), or through
 * an aligned copy when the host itself is little-endian, so an element at an odd offset never causes a misaligned
 * typed-array view and a big-endian host still reads the right numbers.
 */

/** Element types that `parseSafetensors` reads. */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** Element types that `serializeSafetensors` writes. */
export type SafetensorsWriteDtype = 'F64' | 'F32' | 'I64' | 'I32';

/** A host array holding decoded elements. */
export type SafetensorsData = Float32Array | Float64Array | Int32Array;

/** Bytes per element of each readable dtype. */
export const SAFETENSORS_ITEM_SIZE: Readonly<Record<SafetensorsDtype, number>> = Object.freeze({
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
});

/** True when `s` names a dtype this reader understands. */
export function isSafetensorsDtype(s: string): s is SafetensorsDtype {
  return Object.prototype.hasOwnProperty.call(SAFETENSORS_ITEM_SIZE, s);
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Decode IEEE 754 binary16 bits to the float they denote. Exact: every half value (subnormals, ±0, ±inf, NaN)
 * is representable in float32, and the arithmetic below is exact in float64 before the final rounding-free store.
 */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal (or zero): frac * 2^-14 * 2^-10
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Decode bfloat16 bits: they are the top 16 bits of a float32, so widening is a shift (exact, NaN kept). */
export function bfloat16ToFloat(bits: number, scratch: Uint32Array, scratchF: Float32Array): number {
  scratch[0] = (bits & 0xffff) << 16;
  return scratchF[0];
}

/**
 * A fresh ArrayBuffer holding `bytes[begin, begin + n)`. Not `bytes.slice(...).buffer`: on a Node Buffer, `slice`
 * returns a view into the shared pool, whose `.buffer` is the whole pool, not the requested bytes.
 */
function copyBytes(bytes: Uint8Array, begin: number, n: number): ArrayBuffer {
  const out = new Uint8Array(n);
  out.set(bytes.subarray(begin, begin + n));
  return out.buffer;
}

/**
 * Decode `count` elements of `dtype` starting at `bytes[begin]` into a fresh host array.
 * `name` is only used in error messages (an I64 value outside the int32 range is an error naming the tensor).
 * The caller guarantees `begin + count * itemSize <= bytes.length`.
 */
export function decodeElements(
  bytes: Uint8Array,
  begin: number,
  count: number,
  dtype: SafetensorsDtype,
  name: string,
): SafetensorsData {
  const nbytes = count * SAFETENSORS_ITEM_SIZE[dtype];
  const view = new DataView(bytes.buffer, bytes.byteOffset + begin, nbytes);
  switch (dtype) {
    case 'F32':
      if (HOST_LITTLE_ENDIAN) return new Float32Array(copyBytes(bytes, begin, nbytes));
      return fill(new Float32Array(count), (i) => view.getFloat32(4 * i, true));
    case 'F64':
      if (HOST_LITTLE_ENDIAN) return new Float64Array(copyBytes(bytes, begin, nbytes));
      return fill(new Float64Array(count), (i) => view.getFloat64(8 * i, true));
    case 'I32':
      if (HOST_LITTLE_ENDIAN) return new Int32Array(copyBytes(bytes, begin, nbytes));
      return fill(new Int32Array(count), (i) => view.getInt32(4 * i, true));
    case 'F16':
      return fill(new Float32Array(count), (i) => halfToFloat(view.getUint16(2 * i, true)));
    case 'BF16': {
      const u = new Uint32Array(1);
      const f = new Float32Array(u.buffer);
      return fill(new Float32Array(count), (i) => bfloat16ToFloat(view.getUint16(2 * i, true), u, f));
    }
    case 'I64': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const lo = view.getInt32(8 * i, true);
        const hi = view.getInt32(8 * i + 4, true);
        // The value fits int32 exactly when the high word is the sign extension of the low word.
        if (hi !== lo >> 31) {
          const v = view.getBigInt64(8 * i, true);
          throw new Error(
            `safetensors: tensor "${name}" (I64) element ${i} is ${v}, outside the int32 range ` +
              `[-2147483648, 2147483647] that formers integer tensors hold`,
          );
        }
        out[i] = lo;
      }
      return out;
    }
    case 'I16':
      return fill(new Int32Array(count), (i) => view.getInt16(2 * i, true));
    case 'I8':
      return fill(new Int32Array(count), (i) => view.getInt8(i));
    case 'U8':
      return fill(new Int32Array(count), (i) => view.getUint8(i));
    case 'BOOL':
      return fill(new Int32Array(count), (i) => (view.getUint8(i) !== 0 ? 1 : 0));
  }
}

function fill<A extends SafetensorsData>(out: A, at: (i: number) => number): A {
  for (let i = 0; i < out.length; i++) out[i] = at(i);
  return out;
}

/** Encode host elements as `dtype` into `view` at `begin` (little-endian). */
export function encodeElements(view: DataView, begin: number, data: SafetensorsData, dtype: SafetensorsWriteDtype): void {
  const n = data.length;
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) view.setFloat32(begin + 4 * i, data[i], true);
      return;
    case 'F64':
      for (let i = 0; i < n; i++) view.setFloat64(begin + 8 * i, data[i], true);
      return;
    case 'I32':
      for (let i = 0; i < n; i++) view.setInt32(begin + 4 * i, data[i], true);
      return;
    case 'I64':
      // Sign-extend each int32 into two little-endian words.
      for (let i = 0; i < n; i++) {
        view.setInt32(begin + 8 * i, data[i], true);
        view.setInt32(begin + 8 * i + 4, data[i] < 0 ? -1 : 0, true);
      }
      return;
  }
}
