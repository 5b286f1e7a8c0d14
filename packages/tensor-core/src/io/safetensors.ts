/**
 * Tensors to and from safetensors bytes. The byte format itself lives in safetensors-format.ts; this file only
 * moves decoded host arrays onto a backend and back.
 */
import type { DType, TypedArray } from '@formers/gpu-kernels';
import { resolveBackend, Tensor, type BackendLike } from '../tensor.js';
import { parseSafetensors, serializeSafetensors, type SerializeEntry } from './safetensors-format.js';

/** Options of `loadSafetensors`. */
export interface LoadSafetensorsOptions {
  /** Backend to upload to (a Backend or its registered name). Default: the active backend. */
  backend?: BackendLike;
  /**
   * Cast every floating-point tensor to this dtype (F16/BF16/F32 load as float32 and F64 as float64 otherwise).
   * Integer tensors stay int32.
   */
  floatDtype?: 'float32' | 'float64';
}

/** What `loadSafetensors` returns. */
export interface LoadedSafetensors {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** Options of `saveSafetensors`. */
export interface SaveSafetensorsOptions {
  /** On-disk dtype of int32 tensors: 'I32' (default) or 'I64', as PyTorch index tensors are int64. */
  intDtype?: 'I32' | 'I64';
}

/**
 * Load every tensor of a safetensors file onto a backend.
 *
 * F32, F16 and BF16 become float32 (half types widened exactly), F64 float64, and I64, I32, I16, I8, U8 and BOOL
 * int32 (an I64 value outside int32 is an error naming the tensor). Malformed files are rejected with the
 * errors of `parseSafetensors`.
 */
export function loadSafetensors(bytes: Uint8Array, opts: LoadSafetensorsOptions = {}): LoadedSafetensors {
  const floatDtype = opts.floatDtype;
  if (floatDtype !== undefined && floatDtype !== 'float32' && floatDtype !== 'float64') {
    throw new Error(`loadSafetensors: expected opts.floatDtype 'float32' or 'float64'; got ${JSON.stringify(floatDtype)}`);
  }
  const backend = resolveBackend(opts.backend);
  const { entries, metadata } = parseSafetensors(bytes);
  // Validate every dtype before uploading anything, so a refused file leaves no buffers behind.
  const plan = [...entries].map(([name, e]) => {
    let data: TypedArray = e.data;
    let dtype: DType = data instanceof Int32Array ? 'int32' : data instanceof Float64Array ? 'float64' : 'float32';
    if (floatDtype !== undefined && dtype !== 'int32' && dtype !== floatDtype) {
      data = floatDtype === 'float32' ? Float32Array.from(data) : Float64Array.from(data);
      dtype = floatDtype;
    }
    if (!backend.dtypes.includes(dtype)) {
      throw new Error(
        `loadSafetensors: tensor "${name}" (${e.dtype}) loads as ${dtype}, but backend "${backend.name}" computes only ` +
          `${backend.dtypes.join(', ')}; pass { floatDtype: 'float32' } to cast`,
      );
    }
    return { name, shape: e.shape, data, dtype };
  });
  const tensors = new Map<string, Tensor>();
  for (const p of plan) tensors.set(p.name, Tensor.fromData(backend, p.dtype, p.shape, backend.upload(p.data, p.dtype)));
  return { tensors, metadata };
}

/**
 * Serialize tensors to safetensors bytes (float32 → F32, float64 → F64, int32 → I32 or I64). Reads each tensor
 * back synchronously, so every tensor must live on a synchronous backend; use `saveSafetensorsAsync` otherwise.
 */
export function saveSafetensors(
  tensors: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
  metadata?: Readonly<Record<string, string>>,
  opts: SaveSafetensorsOptions = {},
): Uint8Array {
  const entries = new Map<string, SerializeEntry>();
  for (const [name, t] of namedTensors(tensors, 'saveSafetensors')) {
    entries.set(name, { data: t.dataSync(), shape: [...t.shape] });
  }
  return serializeSafetensors(entries, metadata, { intDtype: opts.intDtype });
}

/** `saveSafetensors` for tensors on any backend, asynchronous ones included (reads back with `await t.data()`). */
export async function saveSafetensorsAsync(
  tensors: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
  metadata?: Readonly<Record<string, string>>,
  opts: SaveSafetensorsOptions = {},
): Promise<Uint8Array> {
  const entries = new Map<string, SerializeEntry>();
  for (const [name, t] of namedTensors(tensors, 'saveSafetensorsAsync')) {
    entries.set(name, { data: await t.data(), shape: [...t.shape] });
  }
  return serializeSafetensors(entries, metadata, { intDtype: opts.intDtype });
}

function namedTensors(
  tensors: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
  fn: string,
): [string, Tensor][] {
  if (tensors === null || typeof tensors !== 'object') {
    throw new Error(`${fn}: expected tensors to be a Map or record of name to Tensor; got ${String(tensors)}`);
  }
  const list = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [name, t] of list) {
    if (!(t instanceof Tensor)) throw new Error(`${fn}: expected "${name}" to be a Tensor; got ${t === null ? 'null' : typeof t}`);
  }
  return list;
}
