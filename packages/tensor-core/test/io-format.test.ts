import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseSafetensors, readSafetensorsHeader, serializeSafetensors, type SerializeEntry } from '../src/io/index.js';

/** A file from a header (object or literal JSON text) and a data buffer, with no validation at all. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), headerLenOverride?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, headerLenOverride ?? json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

const dims = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 3 });
const name = fc.string({ minLength: 1, maxLength: 8 }).filter((s) => s !== '__metadata__');

const entryArb: fc.Arbitrary<SerializeEntry> = dims.chain((shape) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return fc.oneof(
    fc.array(fc.float({ noDefaultInfinity: false }), { minLength: n, maxLength: n }).map((v) => ({ shape, data: new Float32Array(v) })),
    fc.array(fc.double(), { minLength: n, maxLength: n }).map((v) => ({ shape, data: new Float64Array(v) })),
    fc
      .tuple(fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: n, maxLength: n }), fc.boolean())
      .map(([v, wide]) => ({ shape, data: new Int32Array(v), dtype: wide ? ('I64' as const) : ('I32' as const) })),
  );
});

/** Same bits, NaN payloads included (Object.is treats every NaN as equal and -0 as different from 0). */
function sameElements(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

describe('serializeSafetensors / parseSafetensors round trip', () => {
  it('restores names, dtypes, shapes, values and metadata for random entries', () => {
    fc.assert(
      fc.property(
        fc.dictionary(name, entryArb, { maxKeys: 5 }),
        fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 10 }), { maxKeys: 3 }),
        (entries, metadata) => {
          const bytes = serializeSafetensors(entries, metadata);
          const parsed = parseSafetensors(bytes);
          expect([...parsed.entries.keys()].sort()).toEqual(Object.keys(entries).sort());
          for (const [k, e] of Object.entries(entries)) {
            const got = parsed.entries.get(k)!;
            expect(got.shape).toEqual([...e.shape]);
            expect(got.data.constructor).toBe(e.data.constructor);
            expect(got.dtype).toBe(e.dtype ?? (e.data instanceof Float32Array ? 'F32' : e.data instanceof Float64Array ? 'F64' : 'I32'));
            expect(sameElements(got.data, e.data)).toBe(true);
          }
          expect(parsed.metadata).toEqual(metadata);
          // Writing what was read gives the same bytes: the layout is a function of the content alone.
          const again = serializeSafetensors(
            new Map([...parsed.entries].map(([k, e]) => [k, { data: e.data, shape: e.shape, dtype: e.dtype as 'F32' }])),
            parsed.metadata,
          );
          expect(again).toEqual(bytes);
        },
      ),
      { seed: 42, numRuns: 150 },
    );
  });

  it('pads the header with spaces to a multiple of 8 and aligns every tensor to its element size', () => {
    fc.assert(
      fc.property(fc.dictionary(name, entryArb, { maxKeys: 5 }), (entries) => {
        const bytes = serializeSafetensors(entries);
        const n = new DataView(bytes.buffer).getUint32(0, true);
        expect(n % 8).toBe(0);
        const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
        expect(text.slice(text.lastIndexOf('}') + 1)).toMatch(/^ {0,7}$/);
        const header = JSON.parse(text) as Record<string, { dtype: string; data_offsets: [number, number] }>;
        for (const info of Object.values(header)) {
          const size = info.dtype === 'F64' || info.dtype === 'I64' ? 8 : 4;
          expect(info.data_offsets[0] % size).toBe(0);
        }
      }),
      { seed: 42, numRuns: 100 },
    );
  });

  it('orders data widest dtype first, then by name, like the reference writer', () => {
    const bytes = serializeSafetensors({
      b: { data: new Float32Array([1]), shape: [1] },
      a: { data: new Float32Array([2]), shape: [1] },
      z: { data: new Float64Array([3]), shape: [1] },
      i: { data: new Int32Array([4]), shape: [1], dtype: 'I64' },
    });
    const n = new DataView(bytes.buffer).getUint32(0, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header.i.data_offsets).toEqual([0, 8]);
    expect(header.z.data_offsets).toEqual([8, 16]);
    expect(header.a.data_offsets).toEqual([16, 20]);
    expect(header.b.data_offsets).toEqual([20, 24]);
  });

  it('writes int32 as I64 on request, sign-extended, and reads it back', () => {
    const data = new Int32Array([-1, 0, 2147483647, -2147483648]);
    const bytes = serializeSafetensors({ idx: { data, shape: [4] } }, undefined, { intDtype: 'I64' });
    const parsed = parseSafetensors(bytes).entries.get('idx')!;
    expect(parsed.dtype).toBe('I64');
    expect([...parsed.data]).toEqual([-1, 0, 2147483647, -2147483648]);
    const dv = new DataView(bytes.buffer, bytes.length - 32);
    expect(dv.getBigInt64(0, true)).toBe(-1n);
    expect(dv.getBigInt64(24, true)).toBe(-2147483648n);
  });

  it('handles scalars, empty tensors and a file with no tensors', () => {
    const bytes = serializeSafetensors({
      s: { data: new Float32Array([1.5]), shape: [] },
      e: { data: new Float64Array(0), shape: [0, 3] },
    });
    const p = parseSafetensors(bytes);
    expect(p.entries.get('s')).toEqual({ dtype: 'F32', shape: [], data: new Float32Array([1.5]) });
    expect(p.entries.get('e')!.shape).toEqual([0, 3]);
    expect(p.entries.get('e')!.data.length).toBe(0);
    expect(parseSafetensors(serializeSafetensors({})).entries.size).toBe(0);
  });

  it('reads a file given as a subarray at an odd byte offset of a larger buffer', () => {
    const bytes = serializeSafetensors({ x: { data: new Float64Array([1.25, -2]), shape: [2] } });
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    expect([...parseSafetensors(big.subarray(3)).entries.get('x')!.data]).toEqual([1.25, -2]);
  });

  it('stores a tensor named "__proto__" as a plain entry', () => {
    const bytes = serializeSafetensors(new Map([['__proto__', { data: new Float32Array([7]), shape: [1] }]]));
    const p = parseSafetensors(bytes);
    expect([...p.entries.keys()]).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(p.metadata)).toBe(Object.prototype);
  });

  it('never mutates caller arrays', () => {
    const data = new Float32Array([1, 2, 3]);
    serializeSafetensors({ x: { data, shape: [3] } });
    expect([...data]).toEqual([1, 2, 3]);
    const bytes = serializeSafetensors({ x: { data, shape: [3] } });
    const copy = bytes.slice();
    const parsed = parseSafetensors(bytes);
    parsed.entries.get('x')!.data[0] = 99;
    expect(bytes).toEqual(copy);
  });
});

describe('readSafetensorsHeader', () => {
  it('lists entries and metadata without decoding, so an I64 overflow does not stop a listing', () => {
    const data = new Uint8Array(16);
    new DataView(data.buffer).setBigInt64(8, 2n ** 40n, true);
    const bytes = rawFile({ __metadata__: { op: 'x' }, idx: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data);
    const h = readSafetensorsHeader(bytes);
    expect(h.metadata).toEqual({ op: 'x' });
    expect(h.entries).toEqual([{ name: 'idx', dtype: 'I64', shape: [2], numel: 2, begin: 0, end: 16 }]);
    expect(h.dataStart).toBe(bytes.length - 16);
    expect(() => readSafetensorsHeader(new Uint8Array(2))).toThrow(/^readSafetensorsHeader: truncated file/);
  });
});

describe('parseSafetensors rejects malformed files', () => {
  const ok = { x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const two = f32Bytes([1, 2]);
  const cases: [string, Uint8Array, RegExp][] = [
    ['a truncated file', new Uint8Array([1, 0, 0]), /truncated file: 3 bytes/],
    ['a header length past the end', rawFile(ok, two, 500), /header length 500 runs past the end/],
    ['a 64-bit header length past the end', (() => {
      const f = rawFile(ok, two);
      new DataView(f.buffer).setUint32(4, 1, true);
      return f;
    })(), /header length 4294967\d+ runs past the end/],
    ['invalid JSON', rawFile('{"x": ', two), /header is not valid JSON/],
    ['invalid UTF-8', rawFile('{}', new Uint8Array(0), 2).map((b, i) => (i === 9 ? 0xff : b)), /not valid UTF-8/],
    ['a header that is an array', rawFile([1, 2]), /header must be a JSON object; got an array/],
    ['a header that is a number', rawFile('42'), /header must be a JSON object; got number 42/],
    ['an entry that is not an object', rawFile({ x: 3 }), /entry "x" must be an object/],
    ['an entry missing dtype', rawFile({ x: { shape: [2], data_offsets: [0, 8] } }, two), /entry "x" is missing "dtype"/],
    ['an entry missing shape', rawFile({ x: { dtype: 'F32', data_offsets: [0, 8] } }, two), /entry "x" is missing "shape"/],
    ['an entry missing data_offsets', rawFile({ x: { dtype: 'F32', shape: [2] } }, two), /entry "x" is missing "data_offsets"/],
    ['an unknown dtype', rawFile({ x: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, two.subarray(0, 2)), /entry "x" has unknown dtype "F8_E4M3"/],
    ['a negative shape', rawFile({ x: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, two), /entry "x" shape must be a list of non-negative integers; got \[-2\]/],
    ['a fractional shape', rawFile({ x: { dtype: 'F32', shape: [1.5], data_offsets: [0, 8] } }, two), /shape must be a list of non-negative integers/],
    ['a string shape', rawFile({ x: { dtype: 'F32', shape: '2', data_offsets: [0, 8] } }, two), /shape must be a list/],
    ['offsets of the wrong arity', rawFile({ x: { dtype: 'F32', shape: [2], data_offsets: [0] } }, two), /data_offsets must be \[begin, end\]/],
    ['offsets past the data', rawFile({ x: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, two), /data_offsets \[0, 16\] out of range of the 8-byte data buffer/],
    ['reversed offsets', rawFile({ x: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, two), /data_offsets \[8, 0\] out of range/],
    ['a byte size not matching the shape', rawFile({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, two), /entry "x" holds 8 bytes, but shape \[3\] of F32 needs 12/],
    [
      'overlapping offsets',
      rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, two),
      /entries "a" \[0, 8\] and "b" \[4, 8\] overlap/,
    ],
    ['a hole before an entry', rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, two), /data bytes \[0, 4\) belong to no entry/],
    ['trailing bytes after the last entry', rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, two), /data bytes \[4, 8\) after the last entry/],
    ['non-object metadata', rawFile({ __metadata__: 'x' }), /"__metadata__" must be an object of strings/],
    ['a non-string metadata value', rawFile({ __metadata__: { rtol: 1e-4 } }), /"__metadata__" value of "rtol" must be a string; got number/],
  ];
  for (const [what, bytes, message] of cases) {
    it(`rejects ${what}`, () => {
      expect(() => parseSafetensors(bytes)).toThrow(message);
    });
  }

  it('rejects an I64 value outside int32, naming the tensor and the value', () => {
    const data = new Uint8Array(16);
    new DataView(data.buffer).setBigInt64(8, 2n ** 31n, true);
    const bytes = rawFile({ idx: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data);
    expect(() => parseSafetensors(bytes)).toThrow(/tensor "idx" \(I64\) element 1 is 2147483648, outside the int32 range/);
  });

  it('rejects a non-Uint8Array argument', () => {
    expect(() => parseSafetensors([1, 2, 3] as unknown as Uint8Array)).toThrow(/expected bytes to be a Uint8Array; got an array/);
  });

  it('accepts header padding with spaces, a header that does not end at a multiple of 8, and zero-length data', () => {
    const padded = rawFile('{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}      ', two);
    expect([...parseSafetensors(padded).entries.get('x')!.data]).toEqual([1, 2]);
    const bare = rawFile('{"x":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}');
    expect(parseSafetensors(bare).entries.get('x')!.data).toEqual(new Int32Array(0));
  });

  it('never reads outside the bytes it was given, for any corruption of a valid file', () => {
    const valid = serializeSafetensors({
      w: { data: new Float32Array([1, 2, 3, 4]), shape: [2, 2] },
      i: { data: new Int32Array([5, 6]), shape: [2], dtype: 'I64' },
    }, { k: 'v' });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(valid.length),
        (edits, cut) => {
          const bytes = valid.slice(0, cut);
          for (const [at, v] of edits) if (at < bytes.length) bytes[at] = v;
          // Guard bytes around the file: a read past the end would have to come from them.
          const big = new Uint8Array(bytes.length + 64).fill(0x41);
          big.set(bytes, 32);
          try {
            const p = parseSafetensors(big.subarray(32, 32 + bytes.length));
            let total = 0;
            for (const e of p.entries.values()) total += e.data.length;
            expect(total).toBeLessThanOrEqual(bytes.length);
          } catch (e) {
            expect((e as Error).message).toMatch(/^parseSafetensors: |^safetensors: /);
          }
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe('serializeSafetensors rejects bad entries', () => {
  it.each([
    [{ x: { data: [1, 2], shape: [2] } }, /entry "x" data must be a Float32Array, Float64Array or Int32Array; got an array/],
    [{ x: { data: new Float32Array(3), shape: [2] } }, /entry "x" shape \[2\] has 2 elements; data has 3/],
    [{ x: { data: new Float32Array(2), shape: [-2] } }, /shape must be a list of non-negative integers/],
    [{ x: { data: new Float32Array(2), shape: [2], dtype: 'I64' } }, /entry "x" with F32 data cannot be written as dtype "I64"; expected F32/],
    [{ x: { data: new Int32Array(2), shape: [2], dtype: 'F32' } }, /with I32 data cannot be written as dtype "F32"; expected I32 or I64/],
    [{ __metadata__: { data: new Float32Array(1), shape: [1] } }, /"__metadata__" is reserved/],
  ])('rejects %j', (entries, message) => {
    expect(() => serializeSafetensors(entries as unknown as Record<string, SerializeEntry>)).toThrow(message);
  });

  it('rejects non-string metadata values', () => {
    expect(() => serializeSafetensors({}, { rtol: 1e-4 } as unknown as Record<string, string>)).toThrow(
      /metadata value of "rtol" must be a string; got number/,
    );
  });
});
