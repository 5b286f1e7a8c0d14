import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { Generator, assertGradcheck, loadSafetensors, loadStateDictFromSafetensors, rand, randn, softplus, stack, tensor, type Tensor } from '@formers/tensor-core';
import { Mamba, MambaModel, selectiveScan, selectiveStateUpdate, type MambaScanMode, type SelectiveScanMode } from '../src/index.js';

// Copied into a fresh Uint8Array: a small Buffer from readFileSync is a view into a shared pool (byteOffset != 0).
const golden = (name: string) => new Uint8Array(readFileSync(fileURLToPath(new URL(`./golden/${name}.safetensors`, import.meta.url))));

function expectClose(a: Tensor | ArrayLike<number>, b: Tensor | ArrayLike<number>, rtol: number, atol: number): void {
  const x = a instanceof Object && 'dataSync' in a ? (a as Tensor).dataSync() : (a as ArrayLike<number>);
  const y = b instanceof Object && 'dataSync' in b ? (b as Tensor).dataSync() : (b as ArrayLike<number>);
  expect(x.length).toBe(y.length);
  for (let i = 0; i < x.length; i++) {
    if (!(Math.abs(x[i] - y[i]) <= atol + rtol * Math.abs(y[i]))) throw new Error(`element ${i}: got ${x[i]}, expected ${y[i]}`);
  }
}

const f64 = { dtype: 'float64' as const };

function scanInputs(gen: Generator, b: number, d: number, n: number, L: number) {
  return {
    u: randn([b, d, L], { ...f64, generator: gen }),
    delta: randn([b, d, L], { ...f64, generator: gen }).mul(0.5),
    A: rand([d, n], { ...f64, generator: gen }).mul(-2).sub(0.1),
    B: randn([b, n, L], { ...f64, generator: gen }),
    C: randn([b, n, L], { ...f64, generator: gen }),
    D: randn([d], { ...f64, generator: gen }),
    z: randn([b, d, L], { ...f64, generator: gen }),
    deltaBias: randn([d], { ...f64, generator: gen }).mul(0.5),
    h0: randn([b, d, n], { ...f64, generator: gen }),
  };
}

describe('selective scan', () => {
  it('sequential, parallel (chunked), associative and fused modes and the recurrent step all agree (property, float64)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 19 }), fc.integer({ min: 1, max: 5 }), fc.boolean(), (seed, L, chunk, withH0) => {
        const x = scanInputs(new Generator(seed), 2, 3, 4, L);
        const opts = { D: x.D, z: x.z, deltaBias: x.deltaBias, deltaSoftplus: true, h0: withH0 ? x.h0 : null };
        const ref = selectiveScan(x.u, x.delta, x.A, x.B, x.C, { ...opts, mode: 'sequential' });
        for (const r of [
          selectiveScan(x.u, x.delta, x.A, x.B, x.C, { ...opts, mode: 'parallel', chunkSize: chunk }),
          selectiveScan(x.u, x.delta, x.A, x.B, x.C, { ...opts, mode: 'associative' }),
          selectiveScan(x.u, x.delta, x.A, x.B, x.C, { ...opts, mode: 'fused' }),
        ]) {
          expectClose(r.y, ref.y, 1e-10, 1e-12);
          expectClose(r.lastState, ref.lastState, 1e-10, 1e-12);
        }
        let state = withH0 ? x.h0 : x.h0.mul(0);
        const ys: Tensor[] = [];
        for (let t = 0; t < L; t++) {
          const r = selectiveStateUpdate(state, x.u.select(-1, t), x.delta.select(-1, t), x.A, x.B.select(-1, t), x.C.select(-1, t), {
            D: x.D,
            z: x.z.select(-1, t),
            dtBias: x.deltaBias,
            dtSoftplus: true,
          });
          ys.push(r.y);
          state = r.state;
        }
        expectClose(stack(ys, -1), ref.y, 1e-10, 1e-12);
        expectClose(state, ref.lastState, 1e-10, 1e-12);
      }),
      { seed: 42, numRuns: 25 },
    );
  });

  it('every mode matches the PyTorch golden (float32, default tolerance)', () => {
    const { tensors: t } = loadSafetensors(golden('selective_scan-softplus'));
    for (const mode of ['sequential', 'parallel', 'associative', 'fused'] as SelectiveScanMode[]) {
      const y = selectiveScan(t.get('input.u')!, t.get('input.delta')!, t.get('input.A')!, t.get('input.B')!, t.get('input.C')!, {
        D: t.get('input.D'),
        z: t.get('input.z'),
        deltaBias: t.get('input.delta_bias'),
        deltaSoftplus: true,
        mode,
        chunkSize: 3,
      }).y;
      expectClose(y, t.get('output.out')!, 1e-4, 1e-5);
    }
  });

  it('gradcheck through each scan mode (float64)', () => {
    const x = scanInputs(new Generator(5), 1, 2, 3, 5);
    for (const mode of ['sequential', 'parallel', 'associative', 'fused'] as SelectiveScanMode[]) {
      assertGradcheck(
        (u, delta, A, B, C, D, z, bias, h0) => selectiveScan(u, delta, A, B, C, { D, z, deltaBias: bias, deltaSoftplus: true, h0, mode, chunkSize: 2 }).y,
        [x.u, x.delta, x.A, x.B, x.C, x.D, x.z, x.deltaBias, x.h0],
      );
    }
    // Through the last state as well (the second output of the fused op).
    assertGradcheck(
      (u, delta, A, B, C, h0) => {
        const r = selectiveScan(u, delta, A, B, C, { h0, mode: 'fused' });
        return r.y.sum(-1).unsqueeze(-1).mul(r.lastState);
      },
      [x.u, x.delta, x.A, x.B, x.C, x.h0],
    );
  });

  it('the fused mode folds delta bias and softplus in, linear above the threshold 20 as torch (float64, gradcheck)', () => {
    const x = scanInputs(new Generator(7), 2, 3, 2, 6);
    const delta = x.delta.mul(30); // (B, D, L): about a third of the entries above 20 after the bias
    const opts = { D: x.D, z: x.z, deltaBias: x.deltaBias, deltaSoftplus: true };
    const ref = selectiveScan(x.u, delta, x.A, x.B, x.C, { ...opts, mode: 'sequential' });
    const fused = selectiveScan(x.u, delta, x.A, x.B, x.C, { ...opts, mode: 'fused' });
    expectClose(fused.y, ref.y, 1e-10, 1e-12);
    expectClose(fused.lastState, ref.lastState, 1e-10, 1e-12);
    const above = Array.from(delta.add(x.deltaBias.reshape([1, -1, 1])).dataSync()).filter((v) => v > 20).length;
    expect(above).toBeGreaterThan(0);
    assertGradcheck(
      (u, d, A, B, C, D, z, bias) => selectiveScan(u, d, A, B, C, { D, z, deltaBias: bias, deltaSoftplus: true, mode: 'fused' }).y,
      [x.u, delta, x.A, x.B, x.C, x.D, x.z, x.deltaBias],
    );
  });

  it('float32 fused inference (no gradients recorded: the input buffers as they are) equals the recording path exactly, bias, softplus and h0 included', () => {
    // N = 8: a multiple of 4, so both paths run the backend's float32 SIMD recurrence; L = 3000 spans time chunks.
    const g = new Generator(11);
    const [b, d, n, L] = [2, 6, 8, 3000];
    const f32 = (t: Tensor) => t.to('float32');
    const x = scanInputs(g, b, d, n, L);
    const delta = f32(x.delta.mul(30)); // some entries above the softplus threshold after the bias
    const [u, A, B, C, bias, h0] = [x.u, x.A, x.B, x.C, x.deltaBias, x.h0].map(f32);
    const uBefore = Array.from(u.dataSync());
    const opts = { deltaBias: bias, deltaSoftplus: true, h0, mode: 'fused' as const };
    const inference = selectiveScan(u, delta, A, B, C, opts);
    const recorded = selectiveScan(u.detach().requiresGrad_(), delta, A, B, C, opts);
    expect(Array.from(inference.y.dataSync())).toEqual(Array.from(recorded.y.dataSync()));
    expect(Array.from(inference.lastState.dataSync())).toEqual(Array.from(recorded.lastState.dataSync()));
    expect(Array.from(u.dataSync())).toEqual(uBefore);
  });

  it('does not modify its inputs, and rejects bad shapes and options with clear messages', () => {
    const x = scanInputs(new Generator(6), 1, 2, 3, 4);
    const before = x.u.dataSync().slice();
    selectiveScan(x.u, x.delta, x.A, x.B, x.C, { mode: 'associative' });
    expect(Array.from(x.u.dataSync())).toEqual(Array.from(before));
    expect(() => selectiveScan(x.u, x.delta, randn([3, 3]), x.B, x.C)).toThrow(/selectiveScan: expected A of shape \[D=2, N\]; got \[3,3\]/);
    expect(() => selectiveScan(x.u, x.delta, x.A, randn([1, 4, 4]), x.C)).toThrow(/expected B of shape \[1,3,4\] \(B, N, L\); got \[1,4,4\]/);
    expect(() => selectiveScan(x.u, x.delta, x.A, x.B, x.C, { mode: 'fast' as never })).toThrow(/opts.mode 'parallel', 'associative', 'sequential' or 'fused'; got "fast"/);
    expect(() => selectiveScan(x.u, x.delta, x.A, x.B, x.C, { chunkSize: 0 })).toThrow(/opts.chunkSize to be an integer >= 1; got 0/);
    expect(() => selectiveStateUpdate(randn([1, 2, 4]), x.u.select(-1, 0), x.delta.select(-1, 0), x.A, x.B.select(-1, 0), x.C.select(-1, 0))).toThrow(
      /selectiveStateUpdate: expected state of shape \[1,2,3\]/,
    );
  });
});

describe('Mamba block', () => {
  it('initialization follows the reference: dt_rank, dt in [0.001, 0.1] through the inverse softplus, A_log = log(1..N), D = 1', () => {
    const m = new Mamba(40, { generator: new Generator(1) });
    expect([m.dInner, m.dState, m.dConv, m.dtRank]).toEqual([80, 16, 4, 3]);
    const dt = softplus(m.dtProj.bias!).dataSync();
    expect(Math.min(...dt)).toBeGreaterThanOrEqual(0.001 * (1 - 1e-5));
    expect(Math.max(...dt)).toBeLessThanOrEqual(0.1 * (1 + 1e-5));
    // log-uniform: about half of the values lie below the geometric mean 0.01.
    expect(Array.from(dt).filter((v) => v < 0.01).length).toBeGreaterThan(20);
    expect(Array.from(dt).filter((v) => v > 0.01).length).toBeGreaterThan(20);
    const aLog = m.ALog.dataSync();
    for (let e = 0; e < 80; e += 17) for (let n = 0; n < 16; n++) expect(aLog[e * 16 + n]).toBeCloseTo(Math.log(n + 1), 6);
    expect(Array.from(m.D.dataSync()).every((v) => v === 1)).toBe(true);
    const bound = 1 / Math.sqrt(3);
    expect(Math.max(...Array.from(m.dtProj.weight.dataSync(), Math.abs))).toBeLessThanOrEqual(bound);
    expect(m.inProj.bias).toBeNull();
    expect(m.conv1d.bias).not.toBeNull();
    // torch order: the module's own parameters first, then its children (HF MambaMixer's state_dict order).
    expect([...m.stateDict().keys()]).toEqual([
      'A_log',
      'D',
      'in_proj.weight',
      'conv1d.weight',
      'conv1d.bias',
      'x_proj.weight',
      'dt_proj.weight',
      'dt_proj.bias',
      'out_proj.weight',
    ]);
  });

  it('step() with the conv state and ssm state equals the parallel forward, for every scan mode (property, float64)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 9 }), fc.constantFrom<MambaScanMode>('auto', 'parallel', 'associative', 'sequential', 'fused'), (seed, L, mode) => {
        const gen = new Generator(seed);
        const m = new Mamba(6, { dState: 3, dtype: 'float64', generator: gen, scanMode: mode, chunkSize: 4 });
        const h = randn([2, L, 6], { ...f64, generator: gen });
        const full = m.call(h) as Tensor;
        let state = m.initialState(2);
        const outs: Tensor[] = [];
        for (let t = 0; t < L; t++) {
          const r = m.step(h.select(1, t), state);
          outs.push(r.out);
          state = r.state;
        }
        expectClose(stack(outs, 1), full, 1e-10, 1e-12);
      }),
      { seed: 42, numRuns: 15 },
    );
  });

  it('gradcheck through the whole block (float64), with the default (fused here) and the parallel scan', () => {
    for (const scanMode of ['auto', 'parallel'] as MambaScanMode[]) {
      const m = new Mamba(4, { dState: 2, dtype: 'float64', backend: 'reference', generator: new Generator(9), scanMode, chunkSize: 2 });
      const h = randn([1, 5, 4], { ...f64, backend: 'reference', generator: new Generator(10) });
      assertGradcheck((x) => m.call(x) as Tensor, [h]);
      const params = [...m.parameters()];
      (m.call(h) as Tensor).square().sum().backward();
      for (const p of params) expect(p.grad!.abs().sum().item()).toBeGreaterThan(0);
    }
  });

  it("the default scan mode 'auto' runs the fused scan on a synchronous backend", () => {
    const h = randn([2, 7, 8], { generator: new Generator(12) });
    const auto = new Mamba(8, { dState: 4, generator: new Generator(11) });
    expect(auto.scanMode).toBe('auto');
    const fused = new Mamba(8, { dState: 4, generator: new Generator(11), scanMode: 'fused' });
    const parallel = new Mamba(8, { dState: 4, generator: new Generator(11), scanMode: 'parallel' });
    expect(Array.from((auto.call(h) as Tensor).dataSync())).toEqual(Array.from((fused.call(h) as Tensor).dataSync()));
    expectClose(auto.call(h) as Tensor, parallel.call(h) as Tensor, 1e-4, 1e-5);
  });

  it('rejects bad inputs and a state from another config', () => {
    const m = new Mamba(8, { dState: 4 });
    expect(() => m.call(randn([1, 3, 6]))).toThrow(/Mamba.forward: expected hidden of shape \[B, L, dModel=8\]; got \[1,3,6\]/);
    const other = new Mamba(8, { dState: 8 }).initialState(1);
    expect(() => m.step(randn([1, 8]), other)).toThrow(/Mamba.step: expected a state from this block's initialState\(1\): convState \[1,16,4\], ssmState \[1,16,4\]; got convState \[1,16,4\], ssmState \[1,16,8\]/);
    expect(() => new Mamba(8, { dtMin: 0 })).toThrow(/0 < opts.dtMin/);
    expect(() => new Mamba(8, { scanMode: 'x' as never })).toThrow(/opts.scanMode 'auto', 'parallel', 'associative', 'sequential' or 'fused'; got "x"/);
  });
});

describe('MambaModel (HuggingFace structure)', () => {
  const config = { vocabSize: 16, hiddenSize: 8, numHiddenLayers: 2, stateSize: 4, timeStepRank: 1 };

  it('loads the HF-named safetensors state_dict with its keys unchanged and reproduces the hidden states', () => {
    const model = new MambaModel(config);
    const res = loadStateDictFromSafetensors(model, golden('mamba-model-hf-state-dict'));
    expect(res.missingKeys).toEqual([]);
    expect(res.unexpectedKeys).toEqual([]);
    const keys = [...model.stateDict().keys()];
    expect(keys).toContain('embeddings.weight');
    expect(keys).toContain('layers.1.norm.weight');
    expect(keys).toContain('layers.1.mixer.dt_proj.bias');
    expect(keys).toContain('norm_f.weight');
    const { tensors: t } = loadSafetensors(golden('mamba_model-hf'));
    expectClose(model.call(t.get('input.input_ids')!) as Tensor, t.get('output.out')!, 1e-4, 1e-5);
  });

  it('step-by-step inference with every layer\'s cache equals the parallel forward', () => {
    const model = new MambaModel({ ...config, dtype: 'float64', generator: new Generator(3) });
    const ids = tensor([[1, 5, 7, 2, 0], [3, 3, 15, 8, 9]], { dtype: 'int32' });
    const full = model.call(ids) as Tensor;
    let states = model.initialState(2);
    const outs: Tensor[] = [];
    for (let t = 0; t < 5; t++) {
      const r = model.step(ids.select(1, t).contiguous(), states);
      outs.push(r.hidden);
      states = r.states;
    }
    expectClose(stack(outs, 1), full, 1e-10, 1e-12);
  });

  it('maps MambaForCausalLM / mamba_ssm keys, and rejects bad ids and options', () => {
    const w = randn([2]);
    const mapped = MambaModel.hfKeys({ 'backbone.embedding.weight': w, 'backbone.norm_f.weight': w, 'lm_head.weight': w });
    expect([...mapped.keys()]).toEqual(['embeddings.weight', 'norm_f.weight']);
    const model = new MambaModel(config);
    expect(() => model.call(randn([1, 4]))).toThrow(/MambaModel.forward: expected int32 token ids of shape \[B, L\]; got float32 \[1,4\]/);
    expect(() => model.step(tensor([1], { dtype: 'int32' }), [])).toThrow(/expected one state per layer \(2\) from initialState; got 0/);
    expect(() => new MambaModel({ ...config, vocabSize: 0 })).toThrow(/MambaModel: expected opts.vocabSize to be an integer >= 1; got 0/);
  });
});
