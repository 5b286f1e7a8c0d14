/**
 * The state-space line in three numbers: HiPPO-LegS memory gets better with more coefficients, and S4D and
 * Mamba give the same output in their parallel (training) and recurrent (inference) modes.
 */
import { HippoMemory, Mamba, S4D } from '@formers/ssm-hippo';
import { Generator, noGrad, randn, stack, type Tensor } from '@formers/tensor-core';

export interface SsmTourResult {
  /** Max reconstruction error of a smooth signal from N LegS coefficients, for each N. */
  readonly legsError: ReadonlyArray<{ N: number; maxError: number }>;
  /** Max |parallel - recurrent| over an S4D layer's outputs. */
  readonly s4dModeGap: number;
  /** Max |parallel - step by step| over a Mamba block's outputs. */
  readonly mambaModeGap: number;
}

const signal = (t: number) => Math.sin(6 * t) + 0.5 * Math.cos(11 * t) + 0.3 * t;

function legsError(N: number): number {
  const dt = 1e-3;
  const mem = new HippoMemory({ measure: 'legs', N, dt });
  const steps = 3000;
  for (let i = 1; i <= steps; i++) mem.update(signal(i * dt));
  let worst = 0;
  // Interior of [0, t]: the endpoints of a Legendre expansion converge slowest.
  for (let s = 0.3; s <= 2.7; s += 0.05) {
    const basis = mem.basisAt(s);
    const c = mem.coefficients;
    let f = 0;
    for (let n = 0; n < N; n++) f += c[n] * basis[n];
    worst = Math.max(worst, Math.abs(f - signal(s)));
  }
  return worst;
}

const maxAbsDiff = (a: Tensor, b: Tensor) => a.sub(b).abs().max().item();

export function ssmTour(seed = 0): SsmTourResult {
  const gen = new Generator(seed);
  return noGrad(() => {
    const s4d = new S4D(4, { dState: 16, generator: gen });
    const u = randn([1, 4, 32], { generator: gen }); // (B, H, L)
    const yConv = s4d.call(u) as Tensor; // (B, H, L)
    let state = s4d.initialState(1);
    const ys: Tensor[] = [];
    for (let t = 0; t < 32; t++) {
      const r = s4d.step(u.select(-1, t), state); // (B, H)
      ys.push(r.y);
      state = r.state;
    }
    const mamba = new Mamba(16, { generator: gen });
    const x = randn([1, 24, 16], { generator: gen }); // (B, L, D)
    const yPar = mamba.call(x) as Tensor; // (B, L, D)
    let ms = mamba.initialState(1);
    const outs: Tensor[] = [];
    for (let t = 0; t < 24; t++) {
      const r = mamba.step(x.select(1, t), ms); // (B, D)
      outs.push(r.out);
      ms = r.state;
    }
    return {
      legsError: [4, 8, 16, 32].map((N) => ({ N, maxError: legsError(N) })),
      s4dModeGap: maxAbsDiff(stack(ys, -1), yConv),
      mambaModeGap: maxAbsDiff(stack(outs, 1), yPar),
    };
  });
}
