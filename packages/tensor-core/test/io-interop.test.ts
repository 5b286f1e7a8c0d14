/**
 * safetensors interop with PyTorch. The committed fixtures in tooling/golden/io carry the main weight (CI has no
 * Python); when /usr/bin/python3 with torch is present, the checker also runs live on a freshly written file.
 * Regenerate: `bash tooling/reference/generate-all.sh` (torch side), and for ts-written.safetensors run this file
 * with FORMERS_UPDATE_GOLDEN=1 first.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseSafetensors, serializeSafetensors, type SafetensorsData, type SerializeEntry } from '../src/io/index.js';

const IO_DIR = fileURLToPath(new URL('../../../tooling/golden/io/', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../../../tooling/reference/io_interop.py', import.meta.url));
const PYTHON = '/usr/bin/python3';

type JsonValue = number | string;
interface Described {
  dtype: string;
  shape: number[];
  values: JsonValue[];
}

/** The JSON encoding of io_interop.py: finite numbers as numbers, nan/inf/-0 as strings. */
function decode(v: JsonValue): number {
  if (typeof v === 'number') return v;
  return { nan: NaN, inf: Infinity, '-inf': -Infinity, '-0': -0 }[v] ?? Number.NaN;
}

function expectSameValues(got: SafetensorsData, want: JsonValue[], what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], decode(want[i]))) {
      throw new Error(`${what}[${i}]: got ${Object.is(got[i], -0) ? '-0' : got[i]}, torch says ${want[i]}`);
    }
  }
}

const torchExpected = JSON.parse(readFileSync(join(IO_DIR, 'torch-written.expected.json'), 'utf8')) as {
  tensors: Record<string, Described>;
  metadata: Record<string, string>;
};

const HOST_TYPE: Record<string, string> = {
  F32: 'Float32Array',
  F16: 'Float32Array',
  BF16: 'Float32Array',
  F64: 'Float64Array',
  I64: 'Int32Array',
  I32: 'Int32Array',
  I16: 'Int32Array',
  I8: 'Int32Array',
  U8: 'Int32Array',
  BOOL: 'Int32Array',
};

describe('reading files written by PyTorch', () => {
  for (const file of ['torch-written.safetensors', 'torch-written-unaligned.safetensors', 'torch-written-by-safetensors.safetensors']) {
    const path = join(IO_DIR, file);
    it.skipIf(!existsSync(path))(`${file}: every dtype, edge values exact (subnormals, inf, nan, -0, int limits)`, () => {
      const parsed = parseSafetensors(new Uint8Array(readFileSync(path)));
      expect([...parsed.entries.keys()].sort()).toEqual(Object.keys(torchExpected.tensors).sort());
      expect(parsed.metadata).toEqual(torchExpected.metadata);
      for (const [name, want] of Object.entries(torchExpected.tensors)) {
        const got = parsed.entries.get(name)!;
        expect(got.dtype, name).toBe(want.dtype);
        expect(got.shape, name).toEqual(want.shape);
        expect(got.data.constructor.name, name).toBe(HOST_TYPE[want.dtype]);
        expectSameValues(got.data, want.values, name);
      }
    });
  }

  it('covers every readable dtype in the fixture', () => {
    const dtypes = new Set(Object.values(torchExpected.tensors).map((t) => t.dtype));
    expect([...dtypes].sort()).toEqual(Object.keys(HOST_TYPE).sort());
  });

  it('refuses an I64 value outside int32 with an error naming the tensor', () => {
    const bytes = new Uint8Array(readFileSync(join(IO_DIR, 'torch-i64-overflow.safetensors')));
    expect(() => parseSafetensors(bytes)).toThrow(/tensor "too_big" \(I64\) element 1 is 2147483648, outside the int32 range/);
  });

  it('widens all 65536 F16 and BF16 bit patterns exactly as torch does', () => {
    const want = JSON.parse(readFileSync(join(IO_DIR, 'half-widening.expected.json'), 'utf8')) as Record<
      'F16' | 'BF16',
      { sha256: string; nan_count: number }
    >;
    const patterns = new Uint16Array(65536).map((_, i) => i);
    for (const dtype of ['F16', 'BF16'] as const) {
      const header = JSON.stringify({ h: { dtype, shape: [65536], data_offsets: [0, 131072] } });
      const file = new Uint8Array(8 + header.length + 131072);
      new DataView(file.buffer).setUint32(0, header.length, true);
      file.set(new TextEncoder().encode(header), 8);
      file.set(new Uint8Array(patterns.buffer), 8 + header.length);
      const data = parseSafetensors(file).entries.get('h')!.data as Float32Array;
      const bits = new Int32Array(data.length);
      const view = new DataView(data.buffer);
      let nans = 0;
      for (let i = 0; i < data.length; i++) {
        if (Number.isNaN(data[i])) {
          bits[i] = 0x7fc00000;
          nans++;
        } else bits[i] = view.getInt32(4 * i, true);
      }
      expect(nans, dtype).toBe(want[dtype].nan_count);
      expect(createHash('sha256').update(new Uint8Array(bits.buffer)).digest('hex'), dtype).toBe(want[dtype].sha256);
    }
  });
});

/** The tensors formers writes for PyTorch to check; fixed so the committed file is reproducible byte for byte. */
function tsFixture(): { entries: Map<string, SerializeEntry>; metadata: Record<string, string> } {
  const entries = new Map<string, SerializeEntry>([
    ['weight', { data: new Float32Array([0.5, -1.25, 3.4028234663852886e38, 1.401298464324817e-45, -0, Infinity, -Infinity, NaN]), shape: [2, 4] }],
    ['bias', { data: new Float32Array([0.1, 0.2, 0.3]), shape: [3] }],
    ['double', { data: new Float64Array([Math.PI, -1e-300, 5e-324]), shape: [3, 1] }],
    ['index_i64', { data: new Int32Array([0, -1, 2147483647, -2147483648, 7]), shape: [5], dtype: 'I64' }],
    ['count_i32', { data: new Int32Array([3, -4, 5, 6]), shape: [2, 2] }],
    ['scalar', { data: new Float32Array([2.75]), shape: [] }],
    ['empty', { data: new Float32Array(0), shape: [0, 2] }],
  ]);
  return { entries, metadata: { format: 'pt', producer: 'formers io interop fixture' } };
}

function expectCheckMatches(check: { tensors: Record<string, Described>; metadata: Record<string, string> }): void {
  const { entries, metadata } = tsFixture();
  expect(check.metadata).toEqual(metadata);
  expect(Object.keys(check.tensors).sort()).toEqual([...entries.keys()].sort());
  for (const [name, e] of entries) {
    const seen = check.tensors[name];
    const natural = e.data instanceof Float32Array ? 'F32' : e.data instanceof Float64Array ? 'F64' : 'I32';
    expect(seen.dtype, name).toBe(e.dtype ?? natural);
    expect(seen.shape, name).toEqual([...e.shape]);
    expectSameValues(e.data, seen.values, name);
  }
}

describe('files written by formers, read by PyTorch', () => {
  const committed = join(IO_DIR, 'ts-written.safetensors');

  it('the serializer still produces the committed fixture byte for byte', () => {
    const { entries, metadata } = tsFixture();
    const bytes = serializeSafetensors(entries, metadata);
    if (process.env.FORMERS_UPDATE_GOLDEN === '1') writeFileSync(committed, bytes);
    expect(new Uint8Array(readFileSync(committed))).toEqual(bytes);
  });

  it('the committed PyTorch check read every tensor with the intended dtype, shape and values', () => {
    const check = JSON.parse(readFileSync(join(IO_DIR, 'ts-written.check.json'), 'utf8'));
    expect(check.file).toBe('ts-written.safetensors');
    expectCheckMatches(check);
  });

  const hasTorch = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
  if (!hasTorch) console.warn(`io-interop: skipping the live PyTorch check (no ${PYTHON} with torch)`);
  it.skipIf(!hasTorch)('live: PyTorch reads a freshly serialized file (skipped without /usr/bin/python3 + torch)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'formers-io-'));
    try {
      const { entries, metadata } = tsFixture();
      const file = join(dir, 'ts-written.safetensors');
      writeFileSync(file, serializeSafetensors(entries, metadata));
      const out = join(dir, 'check.json');
      const r = spawnSync(PYTHON, [SCRIPT, '--check', file, '--out', out], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const check = JSON.parse(readFileSync(out, 'utf8'));
      expectCheckMatches(check);
      if (check.safetensors_package) expect(check.safetensors_package.agrees).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
