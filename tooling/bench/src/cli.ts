/**
 * `pnpm bench`: the workloads of workloads.ts on every available formers backend and, in the same run, on
 * tfjs-backend-wasm, tfjs-backend-cpu, onnxruntime-node and PyTorch. Medians, GFLOP/s, and the ratio to
 * tfjs-wasm (the peer the project's speed targets are stated against).
 *
 *   pnpm bench [--quick] [--json FILE] [--md FILE] [--only NAME,...] [--engines NAME,...] [--no-torch]
 *   pnpm bench <suite> [args...]   a package's own suite: src/suites/<suite>.ts (attention, ssm, ...)
 *
 * Node engines are timed in interleaved rounds (one block of each engine per round), so that load from other
 * processes on the machine hits them alike. PyTorch runs in its own process afterwards.
 *
 * Each round's figure for an engine is the mean of a block of back-to-back runs after one untimed run, as
 * torch.utils.benchmark's `blocked_autorange` does: what a model that calls the kernel over and over sees. The
 * printed sample count is the number of such blocks (for PyTorch, timed in its own process, of single runs). A 10 ms
 * pause comes before each engine's block, so that thread pools which spin after a run (onnxruntime's, formers'
 * wasm workers: 5 ms) are idle again and do not take a core from the next engine. Without the untimed run, every
 * timed run would be the first after a pause, when a woken worker thread can land on the busy core (see
 * gpu-kernels/src/wasm/thread-pool.ts) and two threads run like one.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { backendInfo } from '@formers/gpu-kernels';
import type { Engine, Runner } from './engine.js';
import { formersEngines } from './engines/formers.js';
import { onnxEngine } from './engines/onnx.js';
import { tfjsEngines } from './engines/tfjs.js';
import { runTorch } from './engines/torch.js';
import { machine } from './machine.js';
import { markdown, type Result } from './report.js';
import { checkTarget } from './target.js';
import { flopsOf, workloads, type Workload } from './workloads.js';

interface Args {
  quick: boolean;
  json: string | null;
  md: string | null;
  only: string[] | null;
  engines: string[] | null;
  torch: boolean;
}

/**
 * `pnpm bench` runs this file with tooling/bench as its working directory; a relative --json/--md path means
 * the directory the user typed the command in, which pnpm passes as INIT_CWD.
 */
function outputPath(file: string): string {
  return resolve(process.env.INIT_CWD ?? process.cwd(), file);
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, json: null, md: null, only: null, engines: null, torch: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench: expected a value after ${a}`);
      return v;
    };
    if (a === '--') continue;
    else if (a === '--quick') args.quick = true;
    else if (a === '--json') args.json = outputPath(value());
    else if (a === '--md') args.md = outputPath(value());
    else if (a === '--only') args.only = value().split(',');
    else if (a === '--engines') args.engines = value().split(',');
    else if (a === '--no-torch') args.torch = false;
    else throw new Error(`bench: unknown argument ${a}; expected --quick, --json FILE, --md FILE, --only KINDS, --engines NAMES, --no-torch`);
  }
  return args;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Runs per block: enough to fill about BLOCK_MS, at most MAX_BLOCK_RUNS. */
const BLOCK_MS = 20;
const MAX_BLOCK_RUNS = 50;
/** Engines whose run takes longer than this get no untimed run before a block: a cold start is noise to them. */
const UNTIMED_MAX_MS = 250;

/**
 * Warm up each runner, then time interleaved rounds until `reps` blocks or each engine's time budget is spent.
 * Returns, per engine, one per-run time (ms) per round: the mean of that round's block.
 */
async function timeRunners(runners: Map<string, Runner>, quick: boolean, failed: Map<string, string>): Promise<Map<string, number[]>> {
  const warmup = quick ? 1 : 2;
  const reps = quick ? 5 : 15;
  const budgetMs = quick ? 3000 : 10000;
  const times = new Map<string, number[]>();
  // Slow engines (naive kernels on GEMM n=1024 take seconds per run) must not stretch the run to many minutes:
  // a warm-up run over a quarter of the budget ends the warm-up, and one over the whole budget leaves the engine
  // a single timed run instead of at least three.
  const slow = new Set<string>();
  const single = new Map<string, number>();
  const blockRuns = new Map<string, number>();
  const untimed = new Set<string>();
  for (const [name, r] of runners) {
    try {
      let last = 0;
      for (let i = 0; i < warmup; i++) {
        const t0 = performance.now();
        await r.run();
        const dt = performance.now() - t0;
        last = dt;
        if (dt > 3 * budgetMs) {
          // Far too slow to repeat: the one run is the figure, and the report says so (1 run).
          slow.add(name);
          single.set(name, dt);
          break;
        }
        if (dt > budgetMs) slow.add(name);
        if (dt > budgetMs / 4) break;
      }
      blockRuns.set(name, Math.max(1, Math.min(MAX_BLOCK_RUNS, Math.round(BLOCK_MS / Math.max(last, 1e-3)))));
      if (last < UNTIMED_MAX_MS) untimed.add(name);
      times.set(name, single.has(name) ? [single.get(name)!] : []);
    } catch (e) {
      failed.set(name, `failed: ${e instanceof Error ? e.message : String(e)}`);
      runners.delete(name);
    }
  }
  const spent = new Map<string, number>();
  for (let round = 0; round < reps; round++) {
    for (const [name, r] of runners) {
      if (single.has(name)) continue;
      if (round >= (slow.has(name) ? 1 : 3) && (spent.get(name) ?? 0) > budgetMs) continue;
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (untimed.has(name)) await r.run();
      const runs = blockRuns.get(name)!;
      const t0 = performance.now();
      for (let i = 0; i < runs; i++) await r.run();
      const dt = performance.now() - t0;
      times.get(name)!.push(dt / runs);
      spent.set(name, (spent.get(name) ?? 0) + dt);
    }
  }
  return times;
}

/** `pnpm bench <suite> ...` hands the remaining arguments to src/suites/<suite>.ts, which exports `main(argv)`. */
async function runSuite(argv: string[]): Promise<boolean> {
  const rest = argv.filter((a) => a !== '--');
  const suite = rest[0];
  if (suite === undefined || suite.startsWith('-')) return false;
  if (!/^[a-z][a-z0-9-]*$/.test(suite)) throw new Error(`bench: expected a suite name like "attention"; got ${JSON.stringify(suite)}`);
  const url = new URL(`./suites/${suite}.ts`, import.meta.url);
  if (!existsSync(url)) {
    const known = existsSync(new URL('./suites/', import.meta.url))
      ? readdirSync(new URL('./suites/', import.meta.url)).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3))
      : [];
    throw new Error(`bench: unknown suite ${JSON.stringify(suite)}; expected one of ${JSON.stringify(known)} or flags for the core workloads`);
  }
  const mod = (await import(url.href)) as { main: (argv: string[]) => Promise<void> };
  await mod.main(rest.slice(1));
  return true;
}

/**
 * gpu.js webgpu in Node goes through Dawn (the `webgpu` package), which needs a Vulkan driver. Without a GPU that
 * is Chromium's SwiftShader ICD; Debian 12's own lavapipe is too old for Dawn. It must be chosen before Dawn first
 * loads Vulkan, so it is set here, unless the caller chose a driver.
 */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** A GPU device node exists (a DRM render node, or NVIDIA's), so a hardware Vulkan driver may serve Dawn. */
function gpuDevicePresent(): boolean {
  const dri = existsSync('/dev/dri') && readdirSync('/dev/dri').some((f) => f.startsWith('renderD'));
  return dri || existsSync('/dev/nvidia0');
}

async function main(): Promise<void> {
  if (process.env.VK_ICD_FILENAMES === undefined && !gpuDevicePresent() && existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  if (await runSuite(process.argv.slice(2))) process.exit(0);
  const args = parseArgs(process.argv.slice(2));
  const m = machine();
  // The backend formers picks with no flags and no FORMERS_BACKEND: the one the speed target is about.
  const info = backendInfo();
  const ws = workloads(args.quick).filter((w) => !args.only || args.only.includes(w.kind));
  // gpu.js webgpu on SwiftShader is a CPU emulating a GPU (GEMM n=1024 takes about 90 s a run here): it proves
  // correctness in the conformance suite, but its speed says nothing, so the default run leaves it out.
  const softwareWebgpu = /swiftshader/i.test(process.env.VK_ICD_FILENAMES ?? '');
  const skipSoftwareWebgpu = softwareWebgpu && !(args.engines ?? []).some((n) => n.includes('webgpu'));
  const engines: Engine[] = [
    ...(await formersEngines(null)).filter((e) => !(skipSoftwareWebgpu && e.name === 'formers webgpu')),
    ...(await tfjsEngines()),
    ...[await onnxEngine()].filter((e): e is Engine => e !== null),
  ].filter((e) => !args.engines || args.engines.some((n) => e.name.includes(n)));
  const notes = new Map(engines.map((e) => [e.name, e.note]));
  console.log(`${m.date} | ${m.cpu} | ${m.cores} cores | Node ${m.node} | load average ${m.loadAtStart.toFixed(2)}`);
  console.log(`  default formers backend: ${info.active}${info.requested ? ` (requested ${info.requested})` : ''}${info.fallbackReason ? `; fallback: ${info.fallbackReason}` : ''}`);
  for (const [name, note] of notes) console.log(`  ${name}: ${note}`);
  if (skipSoftwareWebgpu) {
    const why = 'left out: its Vulkan driver is SwiftShader (software), so its times measure a CPU emulating a GPU; pass --engines webgpu to include it';
    notes.set('formers webgpu', why);
    console.log(`  formers webgpu: ${why}`);
  }

  const results: Result[] = [];
  for (const w of ws) {
    const runners = new Map<string, Runner>();
    for (const e of engines) {
      try {
        const r = await e.prepare(w);
        if (typeof r === 'string') results.push({ workload: w.name, engine: e.name, medianMs: null, gflops: null, vsTfjsWasm: null, reps: 0, skipped: r });
        else runners.set(e.name, r);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        results.push({ workload: w.name, engine: e.name, medianMs: null, gflops: null, vsTfjsWasm: null, reps: 0, skipped: `failed: ${reason}` });
      }
    }
    const failed = new Map<string, string>();
    const times = await timeRunners(runners, args.quick, failed);
    for (const [engine, skipped] of failed) {
      console.warn(`${w.name} on ${engine}: ${skipped}`);
      results.push({ workload: w.name, engine, medianMs: null, gflops: null, vsTfjsWasm: null, reps: 0, skipped });
    }
    for (const r of runners.values()) r.dispose?.();
    record(results, w, times);
    printWorkload(results.filter((r) => r.workload === w.name));
  }

  if (args.torch && (!args.engines || args.engines.some((n) => 'pytorch'.includes(n)))) {
    const threads = os.availableParallelism();
    const torch = runTorch(ws, { threads, quick: args.quick });
    if (typeof torch === 'string') {
      console.log(`PyTorch: skipped (${torch})`);
    } else {
      notes.set('pytorch', torch.note);
      console.log(`\nPyTorch: ${torch.note}`);
      for (const w of ws) {
        const r = torch.results[w.name];
        if (!r) continue;
        const tfjs = results.find((x) => x.workload === w.name && x.engine === 'tfjs-wasm')?.medianMs ?? null;
        const flops = flopsOf(w);
        const res: Result = {
          workload: w.name,
          engine: 'pytorch',
          medianMs: r.medianMs,
          gflops: flops === null ? null : flops / r.medianMs / 1e6,
          vsTfjsWasm: tfjs === null ? null : tfjs / r.medianMs,
          reps: r.reps,
        };
        // Keep each workload's rows together.
        const last = results.map((x) => x.workload).lastIndexOf(w.name);
        results.splice(last + 1, 0, res);
        printWorkload([res]);
      }
    }
  }

  const loadAtEnd = os.loadavg()[0];
  const target = checkTarget(results, info.active);
  const md = [
    markdown(results, m, notes, args.quick, loadAtEnd),
    '',
    `Target (default backend ${target.engine}, no flags):`,
    '',
    ...target.lines.map((l) => `- ${l}`),
  ].join('\n');
  if (args.json) {
    const json = { machine: m, loadAtEnd, quick: args.quick, defaultBackend: info, notes: Object.fromEntries(notes), target, results };
    writeFileSync(args.json, JSON.stringify(json, null, 2) + '\n');
    console.log(`wrote ${args.json}`);
  }
  if (args.md) writeFileSync(args.md, md + '\n');
  console.log('\n' + md);
  if (args.md) console.log(`wrote ${args.md}`);
  // Worker threads and native sessions must not hold the process open.
  process.exit(0);
}

function record(results: Result[], w: Workload, times: Map<string, number[]>): void {
  const flops = flopsOf(w);
  const tfjs = times.get('tfjs-wasm');
  const tfjsMedian = tfjs && tfjs.length > 0 ? median(tfjs) : null;
  for (const [engine, ts] of times) {
    const ms = median(ts);
    results.push({
      workload: w.name,
      engine,
      medianMs: ms,
      gflops: flops === null ? null : flops / ms / 1e6,
      vsTfjsWasm: tfjsMedian === null ? null : tfjsMedian / ms,
      reps: ts.length,
    });
  }
}

function printWorkload(rs: readonly Result[]): void {
  for (const r of rs) {
    if (r.medianMs === null) continue;
    const gf = r.gflops === null ? '' : `${r.gflops.toFixed(1).padStart(7)} GFLOP/s`;
    const ratio = r.vsTfjsWasm === null ? '' : `  x${r.vsTfjsWasm.toFixed(2)} vs tfjs-wasm`;
    console.log(`${r.workload.padEnd(36)} ${r.engine.padEnd(18)} ${r.medianMs.toFixed(2).padStart(9)} ms ${gf}${ratio}  (${r.reps} samples)`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
