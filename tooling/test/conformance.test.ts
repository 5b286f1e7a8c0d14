/**
 * Golden conformance against PyTorch: every committed case (tooling/golden, packages/<pkg>/test/golden) runs here
 * on the reference backend, so CI covers them without Python. The rest checks that the runner itself can fail.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { getBackendByName } from '@formers/gpu-kernels';
import { parseSafetensors, serializeSafetensors, type SerializeEntry } from '@formers/tensor-core';
import {
  compareTensor,
  defaultCaseRoots,
  findCaseFiles,
  formatResult,
  loadAllRegistrations,
  readConformanceCase,
  REPO_ROOT,
  runCaseFile,
  runConformanceCase,
  TENSOR_CORE_CONFORMANCE_OPS,
  getConformanceOp,
} from '../src/conformance/index.js';
import { readFileSync } from 'node:fs';

const backend = getBackendByName('reference');
const files = findCaseFiles(defaultCaseRoots());

beforeAll(async () => {
  await loadAllRegistrations();
});

describe('committed golden cases (reference backend)', () => {
  it('finds the committed cases', () => {
    expect(files.length).toBeGreaterThan(100);
  });

  it('has at least one case for every registered tensor-core op, and a registered op for every case', () => {
    const ops = new Set(files.map((f) => parseSafetensors(new Uint8Array(readFileSync(f))).metadata.op));
    for (const op of Object.keys(TENSOR_CORE_CONFORMANCE_OPS)) expect(ops.has(op), `no golden case for op "${op}"`).toBe(true);
    for (const op of ops) expect(getConformanceOp(op), `no registration for op "${op}"`).toBeDefined();
  });

  for (const file of files) {
    const name = file.slice(REPO_ROOT.length + 1).replace(/\.safetensors$/, '');
    it(name, async () => {
      const r = await runCaseFile(file, backend);
      if (!r.pass) throw new Error(formatResult(r));
      expect(r.pass).toBe(true);
    });
  }
});

/** A small `mul` case written the way the Python helper writes one, with values computed here by hand rule. */
function mulCase(overrides: { out?: number[]; gradA?: number[]; op?: string; meta?: Record<string, string> } = {}): Uint8Array {
  const a = [1, -2, 3];
  const b = [0.5, 4, -1];
  const cot = [1, 2, 3];
  const entries: Record<string, SerializeEntry> = {
    'input.a': { data: new Float32Array(a), shape: [3] },
    'input.b': { data: new Float32Array(b), shape: [3] },
    'output.out': { data: new Float32Array(overrides.out ?? a.map((x, i) => x * b[i])), shape: [3] },
    'cotangent.out': { data: new Float32Array(cot), shape: [3] },
    // d/da sum(a*b*cot) = b*cot; d/db = a*cot
    'grad.a': { data: new Float32Array(overrides.gradA ?? b.map((x, i) => x * cot[i])), shape: [3] },
    'grad.b': { data: new Float32Array(a.map((x, i) => x * cot[i])), shape: [3] },
  };
  return serializeSafetensors(entries, { op: overrides.op ?? 'mul', config: '{}', dtype: 'float32', ...overrides.meta });
}

describe('the runner', () => {
  it('passes a correct case and reports each output and gradient', async () => {
    const r = await runConformanceCase(readConformanceCase(mulCase(), 'mul-ok'), backend);
    expect(r.error).toBeUndefined();
    expect(r.checks.map((c) => c.tensor)).toEqual(['output.out', 'grad.a', 'grad.b']);
    expect(r.pass).toBe(true);
  });

  it('fails a wrong output, naming the tensor and the element', async () => {
    const r = await runConformanceCase(readConformanceCase(mulCase({ out: [0.5, -8, -3.01] }), 'mul-bad-out'), backend);
    expect(r.pass).toBe(false);
    const out = r.checks.find((c) => c.tensor === 'output.out')!;
    expect(out.pass).toBe(false);
    expect(out.mismatches).toBe(1);
    expect(out.maxAbsErr).toBeCloseTo(0.01, 5);
    expect(formatResult(r)).toMatch(/^FAIL {2}mul-bad-out .*\n {6}output\.out: 1 element\(s\) outside .*element 2: got -3, expected -3\.0099/);
  });

  it('fails a wrong gradient', async () => {
    const r = await runConformanceCase(readConformanceCase(mulCase({ gradA: [0.5, 8, -3.5] }), 'mul-bad-grad'), backend);
    expect(r.pass).toBe(false);
    expect(r.checks.find((c) => c.tensor === 'grad.a')!.pass).toBe(false);
    expect(r.checks.find((c) => c.tensor === 'grad.b')!.pass).toBe(true);
  });

  it('fails an unknown op', async () => {
    const r = await runConformanceCase(readConformanceCase(mulCase({ op: 'no_such_op' }), 'unknown'), backend);
    expect(r.pass).toBe(false);
    expect(r.error).toMatch(/unknown op "no_such_op"/);
  });

  it('honours a tolerance override and refuses one without a reason', async () => {
    const loose = mulCase({ out: [0.5, -8, -3.01], meta: { atol: '0.02', tolerance_reason: 'test of the override' } });
    expect((await runConformanceCase(readConformanceCase(loose, 'loose'), backend)).pass).toBe(true);
    expect(() => readConformanceCase(mulCase({ meta: { atol: '0.02' } }), 'no-reason')).toThrow(/without a "tolerance_reason"/);
  });

  it('rejects malformed case files', () => {
    const bad = (entries: Record<string, SerializeEntry>, meta: Record<string, string>) => serializeSafetensors(entries, meta);
    const one = { data: new Float32Array([1]), shape: [1] };
    expect(() => readConformanceCase(bad({ 'output.out': one }, {}), 'c')).toThrow(/no "op" key/);
    expect(() => readConformanceCase(bad({ 'output.out': one }, { op: 'x', config: '{' }), 'c')).toThrow(/"config" is not valid JSON/);
    expect(() => readConformanceCase(bad({ 'weird.out': one }, { op: 'x' }), 'c')).toThrow(/tensor "weird.out" is not named/);
    expect(() => readConformanceCase(bad({ 'input.x': one }, { op: 'x' }), 'c')).toThrow(/has no output/);
    expect(() => readConformanceCase(bad({ 'output.out': one, 'grad.x': one, 'cotangent.out': one }, { op: 'x' }), 'c')).toThrow(
      /grad.x has no matching input.x or param.x/,
    );
    expect(() => readConformanceCase(bad({ 'output.out': one }, { op: 'x', dtype: 'float16' }), 'c')).toThrow(/"dtype" must be/);
  });

  it('compares NaN, infinities and shapes strictly', () => {
    const tol = { rtol: 1e-4, atol: 1e-5 };
    expect(compareTensor('t', [NaN, Infinity, 1], [3], [NaN, Infinity, 1], [3], tol).pass).toBe(true);
    expect(compareTensor('t', [1, Infinity], [2], [NaN, Infinity], [2], tol).pass).toBe(false);
    expect(compareTensor('t', [1, -Infinity], [2], [1, Infinity], [2], tol).maxAbsErr).toBe(Infinity);
    expect(compareTensor('t', [1, 2], [2, 1], [1, 2], [2], tol).detail).toMatch(/shape \[2, 1\], expected \[2\]/);
    // atol + rtol|e| boundary: 1e-5 + 1e-4 * 100 = 0.01001
    expect(compareTensor('t', [100.01], [1], [100], [1], tol).pass).toBe(true);
    expect(compareTensor('t', [100.0101], [1], [100], [1], tol).pass).toBe(false);
  });
});

describe('pnpm conformance (the CLI)', () => {
  const run = (args: string[], cwd: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'tooling/src/conformance/cli.ts'), ...args], {
      cwd: join(REPO_ROOT, 'tooling'),
      env: { ...process.env, INIT_CWD: cwd },
      encoding: 'utf8',
    });

  it('runs a case given relative to the caller directory, exits 0 on pass and 1 on failure', () => {
    const dir = mkdtempSync(join(tmpdir(), 'formers-conf-'));
    try {
      writeFileSync(join(dir, 'good.safetensors'), mulCase());
      writeFileSync(join(dir, 'bad.safetensors'), mulCase({ out: [0, 0, 0] }));
      const ok = run(['good.safetensors'], dir);
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/PASS {2}.*good {2}max abs err/);
      expect(ok.stdout).toMatch(/conformance \(reference\): 1 cases, 1 passed, 0 failed/);
      const both = run(['.'], dir);
      expect(both.status).toBe(1);
      expect(both.stdout).toMatch(/FAIL {2}.*bad/);
      expect(both.stdout).toMatch(/2 cases, 1 passed, 1 failed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
