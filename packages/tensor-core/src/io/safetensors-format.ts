/**
 * The safetensors file format at the byte level, without tensors (https://github.com/huggingface/safetensors).
 *
 * Layout: an unsigned 64-bit little-endian header length N; N bytes of UTF-8 JSON (an object mapping each tensor
 * name to `{ dtype, shape, data_offsets: [begin, end] }`, plus an optional `__metadata__` object of string to
 * string), which the writer may pad with trailing spaces; then the byte buffer, where offsets are relative to its
 * start. Like the reference reader, this one insists that the entries tile the byte buffer exactly (no overlap,
 * no hole, nothing after the last tensor), so a file cannot hide a second payload.
 */
import {
  decodeElements,
  encodeElements,
  isSafetensorsDtype,
  SAFETENSORS_ITEM_SIZE,
  type SafetensorsData,
  type SafetensorsDtype,
  type SafetensorsWriteDtype,
} from './safetensors-dtypes.js';

/** One decoded tensor of a safetensors file. */
export interface SafetensorsEntry {
  /** The dtype stored in the file ('F16', 'BF16', 'I64', ...), before widening or narrowing. */
  dtype: SafetensorsDtype;
  shape: number[];
  /**
   * The elements, row-major: F32/F16/BF16 as Float32Array (half types widened exactly), F64 as Float64Array,
   * every integer and BOOL type as Int32Array (I64 narrowed; a value outside int32 is an error).
   */
  data: SafetensorsData;
}

/** What `parseSafetensors` returns. */
export interface ParsedSafetensors {
  /** Entries in file order of their data offsets. */
  entries: Map<string, SafetensorsEntry>;
  /** The `__metadata__` header object (empty when absent). */
  metadata: Record<string, string>;
}

/** One tensor to write. */
export interface SerializeEntry {
  /** Row-major elements; `data.length` must equal the product of `shape`. */
  data: SafetensorsData;
  shape: readonly number[];
  /**
   * On-disk dtype. Defaults from the array type: Float32Array → F32, Float64Array → F64, Int32Array → I32.
   * An Int32Array may be written as I64 (PyTorch index tensors are int64); floats must keep their own type.
   */
  dtype?: SafetensorsWriteDtype;
}

/** Options of `serializeSafetensors`. */
export interface SerializeOptions {
  /** On-disk dtype for Int32Array entries that carry no `dtype` of their own. Default 'I32'. */
  intDtype?: 'I32' | 'I64';
}

/** The reference implementation refuses headers above 100 MB; so does this one, before allocating anything. */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

/** One tensor as the header describes it (offsets relative to the data buffer). */
export interface SafetensorsHeaderEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  numel: number;
  begin: number;
  end: number;
}

/** What `readSafetensorsHeader` returns. */
export interface SafetensorsHeader {
  /** Entries sorted by data offset. */
  entries: SafetensorsHeaderEntry[];
  metadata: Record<string, string>;
  /** Byte index in the file where the data buffer starts. */
  dataStart: number;
}

/**
 * Read and validate a safetensors header without decoding any tensor (cheap: for listing or lazy loading).
 *
 * Throws an Error naming the problem for a truncated file, a header length past the end, invalid or non-object
 * JSON, an entry missing `dtype`/`shape`/`data_offsets`, an unknown dtype, a shape that is not a list of
 * non-negative integers, offsets out of range, overlapping or leaving a hole, a byte size that does not match
 * the shape, and a non-string metadata value. Never reads past `bytes`.
 */
export function readSafetensorsHeader(bytes: Uint8Array): SafetensorsHeader {
  return readHeader(bytes, 'readSafetensorsHeader');
}

function readHeader(bytes: Uint8Array, FN: string): SafetensorsHeader {
  if (!(bytes instanceof Uint8Array)) {
    throw new Error(`${FN}: expected bytes to be a Uint8Array; got ${describe(bytes)}`);
  }
  if (bytes.length < 8) {
    throw new Error(`${FN}: truncated file: ${bytes.length} bytes, fewer than the 8-byte header length`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenLo = dv.getUint32(0, true);
  const lenHi = dv.getUint32(4, true);
  const headerLen = lenHi * 2 ** 32 + lenLo;
  if (headerLen > bytes.length - 8) {
    throw new Error(
      `${FN}: header length ${headerLen} runs past the end of the file (${bytes.length - 8} bytes after the length field)`,
    );
  }
  if (headerLen > SAFETENSORS_MAX_HEADER_BYTES) {
    throw new Error(`${FN}: header length ${headerLen} exceeds the ${SAFETENSORS_MAX_HEADER_BYTES}-byte limit`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    throw new Error(`${FN}: header is not valid UTF-8`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new Error(`${FN}: header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new Error(`${FN}: header must be a JSON object; got ${Array.isArray(header) ? 'an array' : describe(header)}`);
  }

  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata = readMetadata((header as Record<string, unknown>)[METADATA_KEY], FN);

  const pending: SafetensorsHeaderEntry[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) continue;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new Error(`${FN}: entry "${name}" must be an object with dtype, shape, data_offsets; got ${describe(raw)}`);
    }
    const info = raw as Record<string, unknown>;
    for (const key of ['dtype', 'shape', 'data_offsets']) {
      if (!(key in info)) throw new Error(`${FN}: entry "${name}" is missing "${key}"`);
    }
    const dtype = info.dtype;
    if (typeof dtype !== 'string' || !isSafetensorsDtype(dtype)) {
      throw new Error(
        `${FN}: entry "${name}" has unknown dtype ${JSON.stringify(dtype)}; ` +
          `expected one of ${Object.keys(SAFETENSORS_ITEM_SIZE).join(', ')}`,
      );
    }
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw new Error(`${FN}: entry "${name}" shape must be a list of non-negative integers; got ${JSON.stringify(shape)}`);
    }
    const offsets = info.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)
    ) {
      throw new Error(`${FN}: entry "${name}" data_offsets must be [begin, end] non-negative integers; got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLen) {
      throw new Error(
        `${FN}: entry "${name}" data_offsets [${begin}, ${end}] out of range of the ${dataLen}-byte data buffer`,
      );
    }
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    const expected = numel * SAFETENSORS_ITEM_SIZE[dtype];
    if (expected !== end - begin) {
      throw new Error(
        `${FN}: entry "${name}" holds ${end - begin} bytes, but shape [${(shape as number[]).join(', ')}] ` +
          `of ${dtype} needs ${expected}`,
      );
    }
    pending.push({ name, dtype, shape: [...(shape as number[])], numel, begin, end });
  }

  // The entries must tile [0, dataLen) exactly, as the reference reader requires.
  pending.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (let i = 0; i < pending.length; i++) {
    const p = pending[i];
    if (p.begin < cursor) {
      const prev = pending[i - 1];
      throw new Error(
        `${FN}: entries "${prev.name}" [${prev.begin}, ${prev.end}] and "${p.name}" [${p.begin}, ${p.end}] overlap`,
      );
    }
    if (p.begin > cursor) {
      throw new Error(`${FN}: data bytes [${cursor}, ${p.begin}) belong to no entry (before "${p.name}")`);
    }
    cursor = p.end;
  }
  if (cursor !== dataLen) {
    throw new Error(`${FN}: data bytes [${cursor}, ${dataLen}) after the last entry belong to no entry`);
  }

  return { entries: pending, metadata, dataStart };
}

/**
 * Parse a safetensors file held in memory: the header checks of `readSafetensorsHeader`, then every tensor decoded.
 * Also throws, naming the tensor, for an I64 value outside the int32 range.
 */
export function parseSafetensors(bytes: Uint8Array): ParsedSafetensors {
  const header = readHeader(bytes, 'parseSafetensors');
  const entries = new Map<string, SafetensorsEntry>();
  for (const p of header.entries) {
    entries.set(p.name, {
      dtype: p.dtype,
      shape: p.shape,
      data: decodeElements(bytes, header.dataStart + p.begin, p.numel, p.dtype, p.name),
    });
  }
  return { entries, metadata: header.metadata };
}

function readMetadata(raw: unknown, FN: string): Record<string, string> {
  if (raw === undefined) return {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error(`${FN}: "__metadata__" must be an object of strings; got ${describe(raw)}`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v !== 'string') {
      throw new Error(`${FN}: "__metadata__" value of "${k}" must be a string; got ${describe(v)}`);
    }
    setOwn(out, k, v);
  }
  return out;
}

/** Rank of on-disk dtypes for the write order: wider first, so every tensor starts at a multiple of its size. */
const WRITE_ORDER: Record<SafetensorsWriteDtype, number> = { F64: 0, I64: 0, F32: 1, I32: 1 };

/**
 * Serialize tensors to safetensors bytes.
 *
 * Like the reference writer, data is laid out widest dtype first and then by name, the header is padded with
 * spaces to a multiple of 8 bytes, so every tensor is naturally aligned in the file. `metadata` values must be
 * strings. Caller arrays are only read.
 */
export function serializeSafetensors(
  entries: ReadonlyMap<string, SerializeEntry> | Readonly<Record<string, SerializeEntry>>,
  metadata?: Readonly<Record<string, string>>,
  opts: SerializeOptions = {},
): Uint8Array {
  const list = entries instanceof Map ? [...entries.entries()] : Object.entries(entries);
  const intDtype = opts.intDtype ?? 'I32';
  if (intDtype !== 'I32' && intDtype !== 'I64') {
    throw new Error(`serializeSafetensors: expected opts.intDtype 'I32' or 'I64'; got ${JSON.stringify(intDtype)}`);
  }
  const prepared = list.map(([name, e]) => {
    if (name === METADATA_KEY) throw new Error(`serializeSafetensors: "${METADATA_KEY}" is reserved and cannot name a tensor`);
    if (e === null || typeof e !== 'object') throw new Error(`serializeSafetensors: entry "${name}" must be { data, shape }; got ${describe(e)}`);
    const { data, shape } = e;
    const natural =
      data instanceof Float32Array ? 'F32' : data instanceof Float64Array ? 'F64' : data instanceof Int32Array ? 'I32' : null;
    if (natural === null) {
      throw new Error(`serializeSafetensors: entry "${name}" data must be a Float32Array, Float64Array or Int32Array; got ${describe(data)}`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`serializeSafetensors: entry "${name}" shape must be a list of non-negative integers; got ${JSON.stringify(shape)}`);
    }
    const numel = shape.reduce((a, b) => a * b, 1);
    if (numel !== data.length) {
      throw new Error(`serializeSafetensors: entry "${name}" shape [${shape.join(', ')}] has ${numel} elements; data has ${data.length}`);
    }
    const dtype: SafetensorsWriteDtype = e.dtype ?? (natural === 'I32' ? intDtype : natural);
    const allowed = natural === 'I32' ? ['I32', 'I64'] : [natural];
    if (!allowed.includes(dtype)) {
      throw new Error(`serializeSafetensors: entry "${name}" with ${natural} data cannot be written as dtype ${JSON.stringify(dtype)}; expected ${allowed.join(' or ')}`);
    }
    return { name, data, shape: [...shape], dtype, nbytes: numel * SAFETENSORS_ITEM_SIZE[dtype] };
  });
  prepared.sort((a, b) => WRITE_ORDER[a.dtype] - WRITE_ORDER[b.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
      throw new Error(`serializeSafetensors: expected metadata to be an object of strings; got ${describe(metadata)}`);
    }
    const meta: Record<string, string> = {};
    for (const k of Object.keys(metadata).sort()) {
      const v = metadata[k];
      if (typeof v !== 'string') throw new Error(`serializeSafetensors: metadata value of "${k}" must be a string; got ${describe(v)}`);
      setOwn(meta, k, v);
    }
    header[METADATA_KEY] = meta;
  }
  let offset = 0;
  for (const p of prepared) {
    setOwn(header, p.name, { dtype: p.dtype, shape: p.shape, data_offsets: [offset, offset + p.nbytes] });
    offset += p.nbytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, headerLen % 2 ** 32, true);
  dv.setUint32(4, Math.floor(headerLen / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let at = 8 + headerLen;
  for (const p of prepared) {
    encodeElements(dv, at, p.data, p.dtype);
    at += p.nbytes;
  }
  return out;
}

/** Define an own property, so a key such as "__proto__" is stored as data rather than changing a prototype. */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}
