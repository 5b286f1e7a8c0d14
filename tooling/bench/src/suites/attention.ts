/**
 * `pnpm bench attention`: every attention of @formers/attention-linear at N = 256, 1024, 4096, 16384
 * (B = 1, H = 4, Dh = 64, float32, the default formers backend), forward and forward+backward, with peak memory,
 * next to tfjs-backend-wasm's softmax and elu+1 linear attention (its best form: per head, 2-D non-transposed
 * matMuls, K^T prepared outside the timing) and PyTorch (explicit matmul/softmax and elu+1 linear attention,
 * forward and forward+backward) measured in the same run.
 *
 *   pnpm bench attention [--quick] [--lengths 256,1024] [--variants softmax,linear] [--no-torch] [--no-tfjs] [--md FILE]
 *
 * Each (variant, N) runs in its own Node process, so that its peak memory is the process's peak RSS
 * (process.resourceUsage().maxRSS) minus the RSS after the inputs exist: forward first, then forward+backward.
 * Quadratic runs that cannot fit in memory or time are skipped with the reason printed. Each line carries the 1-minute
 * load average at its start (and the run ends with the final one), since on a shared machine that decides how far
 * a figure can be trusted.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendInfo, getBackend } from '@formers/gpu-kernels';
import { Generator, noGrad, randn, sum, tidy, type Tensor } from '@formers/tensor-core';
import { FLASH, createAttentionCore, type AttentionConfig } from '@formers/attention-linear';
import type * as TF from '@tensorflow/tfjs-core';
import { machine } from '../machine.js';

const B = 1;
const H = 4;
const DH = 64;

interface Variant {
  readonly name: string;
  readonly config?: AttentionConfig;
  readonly causal?: boolean;
  /** Largest N this variant runs at, and why not beyond. */
  readonly maxN?: number;
  readonly why?: string;
  /** Largest N of the forward+backward run, and why not beyond. */
  readonly maxBwdN?: number;
  readonly bwdWhy?: string;
  readonly block?: 'flash';
}

const QUAD_WHY = 'plain softmax materialises (1, 4, N, N) float32 scores: 4.3 GB per tensor at N = 16384, several live at once (> 23 GB RAM)';
const VARIANTS: Variant[] = [
  { name: 'softmax', config: { type: 'softmax' }, maxN: 4096, why: QUAD_WHY },
  {
    name: 'softmax-chunked',
    config: { type: 'softmax-chunked', queryChunkSize: 1024, keyChunkSize: 1024 },
    maxBwdN: 4096,
    bwdWhy: 'quadratic compute: forward+backward at N = 16384 is about 16x the N = 4096 time (tens of minutes on this shared 2-core machine)',
  },
  { name: 'linear', config: { type: 'linear' } },
  { name: 'linear-causal', config: { type: 'linear', causalForm: 'chunkwise', chunkSize: 64 }, causal: true },
  { name: 'performer', config: { type: 'performer' } },
  { name: 'norm', config: { type: 'norm' } },
  { name: 'diag', config: { type: 'diag', chunkSize: 64 } },
  { name: 'sparse-window', config: { type: 'sparse', pattern: { kind: 'sliding-window', window: 128 }, blockSize: 64 } },
  { name: 'linformer', config: { type: 'linformer', projectedLength: 256 } },
  { name: 'flash-block', block: 'flash' },
];

interface Args {
  quick: boolean;
  lengths: number[];
  variants: string[] | null;
  torch: boolean;
  tfjs: boolean;
  md: string | null;
  child: string | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, lengths: [256, 1024, 4096, 16384], variants: null, torch: true, tfjs: true, md: null, child: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench attention: expected a value after ${k}`);
      return v;
    };
    if (k === '--') continue;
    else if (k === '--quick') a.quick = true;
    else if (k === '--lengths') a.lengths = val().split(',').map(Number);
    else if (k === '--variants') a.variants = val().split(',');
    else if (k === '--no-torch') a.torch = false;
    else if (k === '--no-tfjs') a.tfjs = false;
    else if (k === '--md') a.md = resolve(process.env.INIT_CWD ?? process.cwd(), val());
    else if (k === '--child') a.child = val();
    else throw new Error(`bench attention: unknown argument ${k}; expected --quick, --lengths, --variants, --no-torch, --no-tfjs, --md FILE`);
  }
  if (a.lengths.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`bench attention: expected --lengths of positive integers; got ${a.lengths.join(',')}`);
  return a;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Warm-up runs (at least 3 and up to half a second, within a tenth of the budget; none kept unless a run is slow), then up to `reps` timed
 * runs within `budgetMs`. Each (variant, N) starts in a fresh process, so the first runs also pay for JIT
 * compilation and for faulting in the memory that later runs reuse.
 */
function time(fn: () => void, reps: number, budgetMs: number): { ms: number; runs: number } {
  const once = () => {
    const t0 = performance.now();
    tidy(fn);
    return performance.now() - t0;
  };
  const first = once();
  const ts: number[] = first * 2 > budgetMs ? [first] : [];
  if (ts.length === 0) {
    // At least 3 runs, and for fast workloads up to half a second of them: V8 optimises tensor-core's per-op
    // JavaScript only after many calls, and a few-millisecond forward pass would otherwise be timed half-interpreted.
    const warm = performance.now();
    for (let i = 1; i < 200 && (i < 3 || performance.now() - warm < 500) && performance.now() - warm < budgetMs / 10; i++) once();
  }
  const start = performance.now();
  while (ts.length < reps && (ts.length === 0 || performance.now() - start < budgetMs)) ts.push(once());
  return { ms: median(ts), runs: ts.length };
}

interface ChildResult {
  fwdMs: number;
  fwdRuns: number;
  fwdPeakMB: number;
  /** Absent when the forward+backward run was skipped. */
  bwdMs?: number;
  bwdRuns?: number;
  bwdPeakMB?: number;
}

/** Runs one (variant, N) in this process and prints its result as JSON. */
function child(spec: string): void {
  const { name, N, quick } = JSON.parse(spec) as { name: string; N: number; quick: boolean };
  const v = VARIANTS.find((x) => x.name === name)!;
  if (!getBackend().sync) throw new Error(`bench attention: the timing assumes a synchronous backend; got ${getBackend().name}`);
  const gen = new Generator(1);
  const reps = quick ? 3 : 15;
  const budget = quick ? 3000 : 10000;
  let fwd: () => Tensor;
  let leaves: Tensor[];
  if (v.block === 'flash') {
    const flash = new FLASH(H * DH, { groupSize: 256, generator: gen });
    const x = randn([B, N, H * DH], { generator: gen });
    leaves = [x];
    fwd = () => flash.call(leaves[0]);
  } else {
    const core = createAttentionCore(v.config!, { numHeads: H, headDim: DH, seqLen: N, generator: gen });
    core.eval();
    leaves = [0, 1, 2].map(() => randn([B, H, N, DH], { generator: gen }));
    fwd = () => core.forward(leaves[0], leaves[1], leaves[2], { causal: v.causal });
  }
  const rss0 = process.memoryUsage().rss;
  // Timed until the result exists, as PyTorch's and tfjs's are: the default backend is synchronous, so a returned
  // tensor is computed. Reading it back into a fresh JS array (dataSync) is left out, as for the peers.
  const f = time(() => noGrad(() => void fwd()), reps, budget);
  const peakF = process.resourceUsage().maxRSS * 1024 - rss0;
  if (v.maxBwdN !== undefined && N > v.maxBwdN) {
    process.stdout.write(`@@RESULT ${JSON.stringify({ fwdMs: f.ms, fwdRuns: f.runs, fwdPeakMB: peakF / 2 ** 20 })}\n`);
    return;
  }
  leaves = leaves.map((t) => t.detach().requiresGrad_());
  const b = time(() => {
    for (const t of leaves) t.grad = null;
    sum(fwd()).backward();
  }, reps, budget);
  const peakB = process.resourceUsage().maxRSS * 1024 - rss0;
  const r: ChildResult = { fwdMs: f.ms, fwdRuns: f.runs, fwdPeakMB: peakF / 2 ** 20, bwdMs: b.ms, bwdRuns: b.runs, bwdPeakMB: peakB / 2 ** 20 };
  process.stdout.write(`@@RESULT ${JSON.stringify(r)}\n`);
}

function runChild(name: string, N: number, quick: boolean): ChildResult | string {
  const cli = process.argv[1];
  const r = spawnSync(process.execPath, [...process.execArgv, cli, 'attention', '--child', JSON.stringify({ name, N, quick })], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
    timeout: 20 * 60 * 1000,
  });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('@@RESULT '));
  if (!line) return `failed (status ${r.status}${r.signal ? `, ${r.signal}` : ''}): ${(r.stderr ?? '').trim().split('\n').slice(-1)[0] ?? ''}`;
  return JSON.parse(line.slice(9)) as ChildResult;
}

// ---- peers -----------------------------------------------------------------------------------------------------

async function tfjsPeers(lengths: number[], quick: boolean): Promise<Map<string, number> | string> {
  let tf: typeof TF;
  try {
    tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend('wasm');
    await tf.ready();
  } catch (e) {
    return `tfjs-backend-wasm unavailable: ${e instanceof Error ? e.message : String(e)}`;
  }
  const out = new Map<string, number>();
  const reps = quick ? 3 : 15;
  const budget = quick ? 3000 : 10000;
  const rnd = (n: number, seed: number) => {
    const g = new Generator(seed);
    return Float32Array.from({ length: n }, () => g.nextNormal());
  };
  for (const N of lengths) {
    const qs = Array.from({ length: H }, (_, h) => tf.tensor2d(rnd(N * DH, 10 + h), [N, DH]));
    const kts = Array.from({ length: H }, (_, h) => tf.tensor2d(rnd(N * DH, 20 + h), [DH, N])); // K^T, outside timing
    const vs = Array.from({ length: H }, (_, h) => tf.tensor2d(rnd(N * DH, 30 + h), [N, DH]));
    const timeTf = (f: () => TF.Tensor[]) => {
      const ts: number[] = [];
      const once = () => {
        const t0 = performance.now();
        // tfjs-backend-wasm runs kernels eagerly and synchronously: the results exist when tidy returns.
        const r = tf.tidy(f);
        for (const x of r) x.dispose();
        return performance.now() - t0;
      };
      const first = once();
      if (first * 2 > budget) ts.push(first);
      const start = performance.now();
      while (ts.length < reps && (ts.length === 0 || performance.now() - start < budget)) ts.push(once());
      return median(ts);
    };
    if (N <= 4096) {
      out.set(`softmax|${N}`, timeTf(() => qs.map((q, h) => tf.matMul(tf.softmax(tf.mul(tf.matMul(q, kts[h]), 1 / Math.sqrt(DH))), vs[h]))));
    }
    out.set(`linear|${N}`, timeTf(() => qs.map((q, h) => {
      const fq = tf.add(tf.elu(q), 1); // (N, Dh)
      const fkt = tf.add(tf.elu(kts[h]), 1); // (Dh, N): phi(K)^T, phi is elementwise
      const kv = tf.matMul(fkt, vs[h]); // (Dh, Dh)
      const z = tf.sum(fkt, 1, true); // (Dh, 1)
      return tf.div(tf.matMul(fq, kv), tf.add(tf.matMul(fq, z), 1e-6)); // (N, Dh)
    })));
    [...qs, ...kts, ...vs].forEach((t) => t.dispose());
  }
  return out;
}

const TORCH = String.raw`
import json, sys, time, torch, torch.nn.functional as F
cfg = json.load(sys.stdin)
torch.set_num_threads(cfg["threads"])
torch.manual_seed(0)
def med(ts):
    ts = sorted(ts); n = len(ts)
    return 1000 * (ts[n // 2] if n % 2 else (ts[n // 2 - 1] + ts[n // 2]) / 2)
def timeit(fn, reps, budget):
    t0 = time.perf_counter(); fn(); first = time.perf_counter() - t0
    ts = [first] if first * 2 > budget else []
    start = time.perf_counter()
    while len(ts) < reps and (not ts or time.perf_counter() - start < budget):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return med(ts)
def softmax_attn(q, k, v):
    return F.softmax(q @ k.transpose(-1, -2) / 8.0, -1) @ v
def linear_attn(q, k, v):
    fq, fk = F.elu(q) + 1, F.elu(k) + 1
    return (fq @ (fk.transpose(-1, -2) @ v)) / (fq @ fk.sum(-2, keepdim=True).transpose(-1, -2) + 1e-6)
out = {}
for N in cfg["lengths"]:
    q, k, v = (torch.randn(1, 4, N, 64) for _ in range(3))
    for name, fn in (("softmax", softmax_attn), ("linear", linear_attn)):
        if name == "softmax" and N > 4096:
            continue
        def fwd():
            with torch.no_grad():
                fn(q, k, v)
        qg, kg, vg = (t.clone().requires_grad_() for t in (q, k, v))
        def bwd():
            fn(qg, kg, vg).sum().backward()
        out["%s|%d|fwd" % (name, N)] = timeit(fwd, cfg["reps"], cfg["budget"])
        out["%s|%d|bwd" % (name, N)] = timeit(bwd, cfg["reps"], cfg["budget"])
print(json.dumps({"version": torch.__version__, "threads": torch.get_num_threads(), "results": out}))
`;

function torchPeers(lengths: number[], quick: boolean): { note: string; results: Record<string, number> } | string {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return 'PyTorch: not importable by /usr/bin/python3';
  const threads = 2;
  const r = spawnSync('/usr/bin/python3', ['-c', TORCH], {
    input: JSON.stringify({ threads, lengths, reps: quick ? 3 : 7, budget: quick ? 3 : 10 }),
    encoding: 'utf8',
    env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: String(threads) },
    maxBuffer: 16 << 20,
  });
  if (r.status !== 0) return `PyTorch run failed: ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}`;
  const o = JSON.parse(r.stdout) as { version: string; threads: number; results: Record<string, number> };
  return { note: `torch ${o.version}, ${o.threads} threads, OMP_WAIT_POLICY=PASSIVE`, results: o.results };
}

// ---- report ----------------------------------------------------------------------------------------------------

const f = (ms: number | undefined) => (ms === undefined || ms === null ? '-' : ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const mb = (x: number | undefined) => (x === undefined || x === null ? '-' : x.toFixed(0));

export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  if (args.child) return child(args.child);
  const m = machine();
  const variants = args.variants ? VARIANTS.filter((v) => args.variants!.includes(v.name)) : VARIANTS;
  const lines: string[] = [];
  const say = (s: string) => {
    lines.push(s);
    console.log(s);
  };
  say(`attention bench, ${m.date}: ${m.cpu}, ${m.cores} cores, load average ${m.loadAtStart.toFixed(1)} at start (shared, busy machine), node ${m.node}, formers backend ${backendInfo().active}`);
  say(`B=${B}, H=${H}, Dh=${DH}, float32; medians; peak = max RSS growth of a fresh process (MB)`);
  const ours = new Map<string, ChildResult>();
  for (const N of args.lengths) {
    for (const v of variants) {
      if (v.maxN !== undefined && N > v.maxN) {
        say(`skip ${v.name} at N=${N}: ${v.why}`);
        continue;
      }
      // The 1-minute load average as each child starts: on a shared machine it says how much to trust the figure.
      const load = os.loadavg()[0].toFixed(1);
      const r = runChild(v.name, N, args.quick);
      if (typeof r === 'string') say(`${v.name} N=${N}: ${r}`);
      else {
        ours.set(`${v.name}|${N}`, r);
        const bwd = r.bwdMs === undefined ? `fwd+bwd skipped: ${v.bwdWhy}` : `fwd+bwd ${f(r.bwdMs)} ms (${r.bwdRuns} runs, peak ${mb(r.bwdPeakMB)} MB)`;
        say(`  ${v.name} N=${N}: fwd ${f(r.fwdMs)} ms (${r.fwdRuns} runs, peak ${mb(r.fwdPeakMB)} MB), ${bwd}; load ${load}`);
      }
    }
  }
  const tfjs = args.tfjs ? await tfjsPeers(args.lengths, args.quick) : 'tfjs: skipped (--no-tfjs)';
  if (typeof tfjs === 'string') say(tfjs);
  const torchLoad = os.loadavg()[0].toFixed(1);
  const torch = args.torch ? torchPeers(args.lengths, args.quick) : 'PyTorch: skipped (--no-torch)';
  say(typeof torch === 'string' ? torch : `PyTorch: ${torch.note}; load ${torchLoad} at its start`);
  say(`load average ${os.loadavg()[0].toFixed(1)} at the end (1 min), ${m.cores} cores`);

  const table: string[] = [];
  table.push(`| variant | ${args.lengths.map((n) => `N=${n} fwd / fwd+bwd (ms)`).join(' | ')} |`);
  table.push(`|---|${args.lengths.map(() => '---').join('|')}|`);
  const memory: string[] = [];
  memory.push(`| peak MB, fwd / fwd+bwd | ${args.lengths.map((n) => `N=${n}`).join(' | ')} |`);
  memory.push(`|---|${args.lengths.map(() => '---').join('|')}|`);
  for (const v of variants) {
    const rs = args.lengths.map((N) => ours.get(`${v.name}|${N}`));
    table.push(`| ${v.name} | ${rs.map((r) => (r ? `${f(r.fwdMs)} / ${f(r.bwdMs)}` : 'skipped')).join(' | ')} |`);
    memory.push(`| ${v.name} | ${rs.map((r) => (r ? `${mb(r.fwdPeakMB)} / ${mb(r.bwdPeakMB)}` : 'skipped')).join(' | ')} |`);
  }
  if (typeof tfjs !== 'string') {
    for (const k of ['softmax', 'linear']) table.push(`| tfjs-wasm ${k} (per head, fwd) | ${args.lengths.map((N) => (tfjs.has(`${k}|${N}`) ? f(tfjs.get(`${k}|${N}`)) : 'skipped')).join(' | ')} |`);
  }
  if (typeof torch !== 'string') {
    for (const k of ['softmax', 'linear']) {
      table.push(`| PyTorch ${k} | ${args.lengths.map((N) => (torch.results[`${k}|${N}|fwd`] !== undefined ? `${f(torch.results[`${k}|${N}|fwd`])} / ${f(torch.results[`${k}|${N}|bwd`])}` : 'skipped')).join(' | ')} |`);
    }
  }
  say('');
  for (const l of table) say(l);
  say('');
  for (const l of memory) say(l);

  // Targets of issue 4, reported as measured.
  say('');
  const get = (v: string, N: number) => ours.get(`${v}|${N}`)?.fwdMs;
  const check = (label: string, ok: boolean | null, detail: string) => say(`${ok === null ? 'n/a ' : ok ? 'MET ' : 'MISS'} ${label}: ${detail}`);
  const l4 = get('linear', 4096);
  const l16 = get('linear', 16384);
  check('linear attention N=16384 time <= 4.5x the N=4096 time', l4 && l16 ? l16 / l4 <= 4.5 : null, l4 && l16 ? `ratio ${(l16 / l4).toFixed(2)}` : 'not measured');
  const linearTime = variants.filter((v) => !['softmax', 'softmax-chunked', 'flash-block'].includes(v.name));
  for (const N of args.lengths.filter((n) => n >= 1024)) {
    const s = get('softmax', N) ?? get('softmax-chunked', N);
    const ref = get('softmax', N) !== undefined ? 'softmax' : 'softmax-chunked';
    if (s === undefined) continue;
    const slower = linearTime.filter((v) => (get(v.name, N) ?? 0) >= s).map((v) => v.name);
    check(`every linear-time variant beats our ${ref} at N=${N}`, slower.length === 0, slower.length ? `slower or equal: ${slower.join(', ')}` : `${ref} ${f(s)} ms`);
  }
  const c16 = ours.get(`softmax-chunked|16384`);
  check('chunked softmax runs N=16384 without N^2 memory', c16 ? c16.fwdPeakMB < 4096 : null, c16 ? `peak ${mb(c16.fwdPeakMB)} MB fwd (N^2 float32 scores alone: 4096 MB)` : 'not measured');
  if (typeof torch !== 'string') {
    const ts = torch.results['softmax|4096|fwd'];
    const s4 = get('softmax', 4096);
    check('softmax fwd at N=4096 no slower than PyTorch', s4 && ts ? s4 <= ts : null, s4 && ts ? `ours ${f(s4)} ms, PyTorch ${f(ts)} ms (ratio ${(s4 / ts).toFixed(2)})` : 'not measured');
    for (const N of [1024, 4096]) {
      const ol = get('linear', N);
      const tl = torch.results[`linear|${N}|fwd`];
      check(`linear fwd within 3x of PyTorch at N=${N}`, ol && tl ? ol <= 3 * tl : null, ol && tl ? `ours ${f(ol)} ms, PyTorch ${f(tl)} ms (ratio ${(ol / tl).toFixed(2)})` : 'not measured');
    }
  }
  if (args.md) {
    writeFileSync(args.md, lines.join('\n') + '\n');
    console.log(`wrote ${args.md}`);
  }
}

// Allow `tsx src/suites/attention.ts --child ...` as well as dispatch from cli.ts.
if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) void main(process.argv.slice(2));
