/**
 * `pnpm bench ssm`: @formers/ssm-hippo against softmax attention of the same width, at L = 1024, 4096, 16384.
 *
 *   pnpm bench ssm [--quick] [--lengths 1024,4096] [--only WORD,...] [--no-torch] [--md FILE]
 *
 * Workloads (batch 1, float32, forward only under noGrad):
 * - selective scan, E = 512 channels (a d_model 256 block's inner width), N = 16: 'sequential' (one step at a time
 *   in tensor ops, the reference), 'parallel' (the chunked linearRecurrence scan) and 'associative' (log-depth
 *   Hillis-Steele; L = 1024 only: its log2(L) rounds over (E, L, N) tensors make it the slowest on a CPU, and its
 *   intermediates need about 0.5 GB each at 16384) and 'fused' (one host loop, the CPU fast path);
 * - a Mamba block forward, d_model 256 (in_proj, conv, x_proj, dt_proj, scan, gate, out_proj), with the default
 *   scan mode ('auto': the fused scan on this synchronous backend) and with the 'parallel' one;
 * - softmax attention forward, d_model 256 = 4 heads x 64, composed here from tensor-core's matmul and softmax
 *   (q, k, v and output projections included, query blocks of 1024 rows so the L x L scores never exist whole);
 * - S4D (Vandermonde) and S4 (Cauchy + Woodbury + iFFT) kernel generation, H = 256 channels, N = 64.
 * PyTorch (when /usr/bin/python3 imports torch) runs the same Mamba block (HF's slow path: a sequential scan),
 * attention, S4D kernel and S4 kernel (the same Cauchy + Woodbury + irfft algorithm, complex64) in a subprocess. Medians of up to 5 runs within a time budget per workload.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { backendInfo } from '@formers/gpu-kernels';
import { Generator, Linear, cat, noGrad, randn, rand, softmax, stack, tidy, type Tensor } from '@formers/tensor-core';
import { Mamba, S4, S4D, selectiveScan, type SelectiveScanMode } from '@formers/ssm-hippo';
import { machine } from '../machine.js';

interface Row {
  readonly workload: string;
  readonly L: number;
  readonly engine: string;
  readonly medianMs: number;
  readonly runs: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** One warm-up (skipped when a run is slow), then up to `reps` timed runs within `budgetMs`. */
function time(fn: () => Tensor, reps: number, budgetMs: number): { medianMs: number; runs: number } {
  const once = () => {
    const t0 = performance.now();
    tidy(() => {
      fn().dataSync();
    });
    return performance.now() - t0;
  };
  const first = once();
  const times: number[] = [];
  if (first * 2 > budgetMs) times.push(first);
  const start = performance.now();
  while (times.length < reps && (times.length === 0 || performance.now() - start < budgetMs)) times.push(once());
  return { medianMs: median(times), runs: times.length };
}

/** Softmax attention of width D = H * Dh with q/k/v/out projections, in query blocks. */
function attentionForward(x: Tensor, proj: { q: Linear; k: Linear; v: Linear; o: Linear }, heads: number): Tensor {
  const [, L, D] = x.shape;
  const dh = D / heads;
  const split = (t: Tensor) => t.reshape([1, L, heads, dh]).transpose(1, 2); // (B, H, N, Dh)
  const q = split(proj.q.call(x) as Tensor).mul(1 / Math.sqrt(dh)); // (B, H, N, Dh)
  const k = split(proj.k.call(x) as Tensor); // (B, H, N, Dh)
  const v = split(proj.v.call(x) as Tensor); // (B, H, N, Dh)
  const outs: Tensor[] = [];
  for (let h = 0; h < heads; h++) {
    const kh = k.select(1, h).select(0, 0).contiguous(); // (N, Dh)
    const vh = v.select(1, h).select(0, 0).contiguous(); // (N, Dh)
    const rows: Tensor[] = [];
    for (let s = 0; s < L; s += 1024) {
      const n = Math.min(1024, L - s);
      const qh = q.select(1, h).select(0, 0).narrow(0, s, n).contiguous(); // (n, Dh)
      rows.push(tidy(() => softmax(qh.matmul(kh.t()), -1).matmul(vh))); // (n, Dh)
    }
    outs.push(rows.length === 1 ? rows[0] : cat(rows, 0)); // (N, Dh)
  }
  const y = stack(outs, 1).reshape([1, L, D]); // (N, H, Dh) -> (1, N, D)
  return proj.o.call(y) as Tensor; // (1, N, D)
}

const TORCH = String.raw`
import json, sys, time, math, torch, torch.nn.functional as F
cfg = json.load(sys.stdin)
torch.set_num_threads(cfg["threads"])
torch.manual_seed(0)
out = {}
def timeit(fn, reps, budget):
    with torch.no_grad():
        t0 = time.perf_counter(); fn(); first = time.perf_counter() - t0
        ts = [first] if first * 2 > budget else []
        start = time.perf_counter()
        while len(ts) < reps and (not ts or time.perf_counter() - start < budget):
            t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    ts.sort(); n = len(ts)
    return {"medianMs": 1000 * (ts[n // 2] if n % 2 else (ts[n // 2 - 1] + ts[n // 2]) / 2), "runs": n}
D, E, N, R = 256, 512, 16, 16
W = {k: torch.randn(*s) / math.sqrt(s[-1]) for k, s in dict(inp=(2 * E, D), conv=(E, 1, 4), xp=(R + 2 * N, E), dtw=(E, R), outp=(D, E), q=(D, D), k=(D, D), v=(D, D), o=(D, D)).items()}
dtb = torch.log(torch.expm1(torch.full((E,), 0.01))); A = -torch.arange(1, N + 1.0).repeat(E, 1)
def mamba(h):
    L = h.shape[1]
    x, z = (h @ W["inp"].T).transpose(1, 2).chunk(2, 1)
    x = F.silu(F.conv1d(x, W["conv"], padding=3, groups=E)[..., :L])
    dt, B, C = torch.split(x.transpose(1, 2) @ W["xp"].T, [R, N, N], -1)
    dt = F.softplus(dt @ W["dtw"].T + dtb).transpose(1, 2)
    dA = torch.exp(A[None, :, None, :] * dt[..., None]); dBu = dt[..., None] * B[:, None] * x[..., None]
    s = torch.zeros(1, E, N); ys = []
    for t in range(L):
        s = dA[:, :, t] * s + dBu[:, :, t]; ys.append((s * C[:, None, t]).sum(-1))
    y = (torch.stack(ys, -1) + x) * F.silu(z)
    return y.transpose(1, 2) @ W["outp"].T
def attn(h):
    L = h.shape[1]
    sp = lambda t: t.view(1, L, 4, 64).transpose(1, 2)
    q, k, v = sp(h @ W["q"].T), sp(h @ W["k"].T), sp(h @ W["v"].T)
    o = torch.cat([F.softmax(q[..., s:s + 1024, :] @ k.transpose(-1, -2) / 8, -1) @ v for s in range(0, L, 1024)], 2)
    return o.transpose(1, 2).reshape(1, L, D) @ W["o"].T
def s4d(L):
    dt = torch.exp(torch.rand(256) * 4.6 - 6.9)[:, None]; Ac = -0.5 + 1j * math.pi * torch.arange(32.0).repeat(256, 1)
    C = torch.randn(256, 32, dtype=torch.cfloat); dtA = Ac * dt
    return 2 * torch.einsum("hn,hnl->hl", C * (torch.exp(dtA) - 1) / Ac, torch.exp(dtA[..., None] * torch.arange(L))).real
def s4_setup(L, H=256, M=32):
    dt = torch.exp(torch.rand(H) * 4.6 - 6.9)[:, None]
    lam = torch.complex(-torch.full((H, M), 0.5), math.pi * torch.arange(M * 1.0).repeat(H, 1))
    P, B, C = (torch.randn(H, M, dtype=torch.cfloat) for _ in range(3))
    def kernel():
        th = 2 * math.pi * torch.arange((L - 1) // 2 + 1) / L; tn = torch.tan(th / 2)
        g = (2j * tn / dt)[:, None]
        V = torch.stack([C * B, C * P, P.conj() * B, P.conj() * P], 1)
        r = V @ (1 / (g - lam[..., None])) + V.conj() @ (1 / (g - lam.conj()[..., None]))
        Kh = (r[:, 0] - r[:, 1] * r[:, 2] / (1 + r[:, 3])) * (1 + 1j * tn)
        if L % 2 == 0: Kh = torch.cat([Kh, (dt * (C * B).real.sum(-1, keepdim=True)).to(Kh.dtype)], -1)
        return torch.fft.irfft(Kh, n=L)
    return kernel
for L in cfg["lengths"]:
    h = torch.randn(1, L, D)
    out["mamba block|%d" % L] = timeit(lambda: mamba(h), cfg["reps"], cfg["budget"])
    out["softmax attention|%d" % L] = timeit(lambda: attn(h), cfg["reps"], cfg["budget"])
    out["S4D kernel|%d" % L] = timeit(lambda: s4d(L), cfg["reps"], cfg["budget"])
    out["S4 kernel|%d" % L] = timeit(s4_setup(L), cfg["reps"], cfg["budget"])
print(json.dumps({"version": torch.__version__, "threads": torch.get_num_threads(), "results": out}))
`;

function runTorch(lengths: number[], reps: number, budgetMs: number): { note: string; rows: Row[] } {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return { note: 'PyTorch: not importable by /usr/bin/python3', rows: [] };
  const r = spawnSync('/usr/bin/python3', ['-c', TORCH], {
    input: JSON.stringify({ threads: 2, lengths, reps, budget: budgetMs / 1000 }),
    encoding: 'utf8',
    env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: '2' },
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) return { note: `PyTorch run failed: ${r.stderr.trim().split('\n').slice(-1)[0]}`, rows: [] };
  const out = JSON.parse(r.stdout) as { version: string; threads: number; results: Record<string, { medianMs: number; runs: number }> };
  const rows = Object.entries(out.results).map(([k, v]) => {
    const [workload, L] = k.split('|');
    return { workload, L: Number(L), engine: 'pytorch', ...v };
  });
  return { note: `PyTorch ${out.version}, ${out.threads} threads, OMP_WAIT_POLICY=PASSIVE; its Mamba block is HF's slow path (a Python loop over L)`, rows };
}

export async function main(argv: string[]): Promise<void> {
  let lengths = [1024, 4096, 16384];
  let torch = true;
  let md: string | null = null;
  let quick = false;
  let only: string[] | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') continue;
    else if (a === '--quick') quick = true;
    else if (a === '--no-torch') torch = false;
    else if (a === '--only') only = (argv[++i] ?? '').split(',');
    else if (a === '--lengths') lengths = (argv[++i] ?? '').split(',').map(Number);
    else if (a === '--md') md = resolve(process.env.INIT_CWD ?? process.cwd(), argv[++i] ?? 'ssm-bench.md');
    else throw new Error(`bench ssm: unknown argument ${a}; expected --quick, --lengths L1,L2, --only WORD,..., --no-torch, --md FILE`);
  }
  if (quick) lengths = lengths.filter((L) => L <= 4096);
  if (!lengths.every((L) => Number.isInteger(L) && L >= 16)) throw new Error(`bench ssm: expected --lengths of integers >= 16; got ${JSON.stringify(lengths)}`);
  const reps = quick ? 3 : 5;
  const budgetMs = quick ? 2000 : 6000;
  const m = machine();
  const info = backendInfo();
  console.log(`ssm bench ${m.date}, ${m.cpu}, ${m.cores} cores, load ${m.loadAtStart.toFixed(1)} at start, node ${m.node}, formers backend ${info.active}`);
  const rows: Row[] = [];
  const gen = new Generator(0);
  const D = 256;
  const E = 512;
  const N = 16;
  const block = new Mamba(D, { generator: gen });
  const proj = { q: new Linear(D, D, { generator: gen }), k: new Linear(D, D, { generator: gen }), v: new Linear(D, D, { generator: gen }), o: new Linear(D, D, { generator: gen }) };
  const s4d = new S4D(256, { dState: 64, generator: gen });
  const blockParallel = new Mamba(D, { generator: new Generator(0), scanMode: 'parallel' });
  const add = (workload: string, L: number, fn: () => Tensor) => {
    if (only && !only.some((w) => workload.includes(w))) return;
    const r = noGrad(() => time(fn, reps, budgetMs));
    rows.push({ workload, L, engine: 'formers', ...r });
    console.log(`  ${workload.padEnd(28)} L=${String(L).padEnd(6)} ${r.medianMs.toFixed(1).padStart(10)} ms  (${r.runs} runs)`);
  };
  for (const L of lengths) {
    const u = randn([1, E, L], { generator: gen });
    const delta = rand([1, E, L], { generator: gen }).mul(0.1);
    const A = rand([E, N], { generator: gen }).mul(-1).sub(0.1);
    const Bm = randn([1, N, L], { generator: gen });
    const Cm = randn([1, N, L], { generator: gen });
    for (const mode of ['sequential', 'parallel', 'associative', 'fused'] as SelectiveScanMode[]) {
      if (mode === 'associative' && L > 1024) continue;
      add(`selective scan ${mode}`, L, () => selectiveScan(u, delta, A, Bm, Cm, { mode }).y);
    }
    const h = randn([1, L, D], { generator: gen });
    add('mamba block', L, () => block.call(h) as Tensor);
    add('mamba block (parallel scan)', L, () => blockParallel.call(h) as Tensor);
    add('softmax attention', L, () => attentionForward(h, proj, 4));
    add('S4D kernel', L, () => s4d.kernel(L));
    if (!only || only.some((w) => 'S4 kernel'.includes(w))) {
      const s4 = new S4(256, { dState: 64, lMax: L, generator: gen });
      add('S4 kernel', L, () => s4.kernel(L));
    }
  }
  let torchNote = 'PyTorch: skipped (--no-torch)';
  if (torch) {
    const t = runTorch(lengths, reps, budgetMs);
    torchNote = t.note;
    rows.push(...t.rows);
  }
  const get = (w: string, L: number, e = 'formers') => rows.find((r) => r.workload === w && r.L === L && r.engine === e)?.medianMs;
  const workloads = [...new Set(rows.map((r) => r.workload))];
  const fmt = (v: number | undefined) => (v === undefined ? '—' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
  const lines: string[] = [];
  lines.push(`Measured ${m.date} on ${m.cpu}, ${m.cores} cores, load average ${m.loadAtStart.toFixed(1)} at start (the machine was shared with other busy processes), node ${m.node}, formers backend \`${info.active}\`, float32, batch 1, forward only. ${torchNote}.`);
  lines.push('');
  lines.push(`| workload | engine | ${lengths.map((L) => `L=${L} (ms)`).join(' | ')} | growth per 4x L |`);
  lines.push(`|---|---|${lengths.map(() => '---:').join('|')}|---|`);
  for (const w of workloads) {
    for (const e of ['formers', 'pytorch']) {
      const vs = lengths.map((L) => get(w, L, e));
      if (vs.every((v) => v === undefined)) continue;
      const growth = vs.slice(1).map((v, i) => (v !== undefined && vs[i] !== undefined ? `${(v / vs[i]!).toFixed(1)}x` : '—')).join(', ');
      lines.push(`| ${w} | ${e} | ${vs.map(fmt).join(' | ')} | ${growth} |`);
    }
  }
  lines.push('');
  const ratio = (a: number | undefined, b: number | undefined) => (a && b ? (a / b).toFixed(2) : '—');
  for (const L of lengths) {
    lines.push(
      `- L=${L}: softmax attention / Mamba block = ${ratio(get('softmax attention', L), get('mamba block', L))}; ` +
        `sequential / parallel scan = ${ratio(get('selective scan sequential', L), get('selective scan parallel', L))}; ` +
        `sequential / associative scan = ${ratio(get('selective scan sequential', L), get('selective scan associative', L))}; ` +
        `sequential / fused scan = ${ratio(get('selective scan sequential', L), get('selective scan fused', L))}; ` +
        `softmax attention / Mamba block (parallel scan) = ${ratio(get('softmax attention', L), get('mamba block (parallel scan)', L))}`,
    );
  }
  const text = lines.join('\n');
  console.log('\n' + text);
  if (md) writeFileSync(md, text + '\n');
}
