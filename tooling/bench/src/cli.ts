/**
 * `pnpm bench`: the workloads of workloads.ts on every available formers backend and, in the same run, on
 * tfjs-backend-wasm, tfjs-backend-cpu, onnxruntime-node and PyTorch. Medians, GFLOP/s, and the ratio to
 * tfjs-wasm (the peer the project's speed targets are stated against).
 *
 *   pnpm bench [--quick] [--json FILE] [--md FILE] [--only NAME,...] [--engines NAME,...] [--no-torch]
 *   pnpm bench <suite> [args...]   a package's own suite: src/suites/<suite>.ts (attention, ssm, ...)
 *
 * Node engines are timed in interleaved rounds (one run of each engine per round), so that load from other
 * processes on the machine hits them alike. PyTorch runs in its own process afterwards.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import type { Engine, Runner } from './engine.js';
import { formersEngines } from './engines/formers.js';
import { onnxEngine } from './engines/onnx.js';
import { tfjsEngines } from './engines/tfjs.js';
import { runTorch } from './engines/torch.js';
import { machine } from './machine.js';
import { markdown, type Result } from './report.js';
import { flopsOf, workloads, type Workload } from './workloads.js';

interface Args {
  quick: boolean;
  json: string | null;
  md: string | null;
  only: string[] | null;
  engines: string[] | null;
  torch: boolean;
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
    else if (a === '--json') args.json = value();
    else if (a === '--md') args.md = value();
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

/** Warm up each runner, then time interleaved rounds until `reps` runs or each engine's time budget is spent. */
async function timeRunners(runners: Map<string, Runner>, quick: boolean, failed: Map<string, string>): Promise<Map<string, number[]>> {
  const warmup = quick ? 1 : 2;
  const reps = quick ? 5 : 15;
  const budgetMs = quick ? 3000 : 10000;
  const times = new Map<string, number[]>();
  for (const [name, r] of runners) {
    try {
      for (let i = 0; i < warmup; i++) await r.run();
      times.set(name, []);
    } catch (e) {
      failed.set(name, `failed: ${e instanceof Error ? e.message : String(e)}`);
      runners.delete(name);
    }
  }
  const spent = new Map<string, number>();
  for (let round = 0; round < reps; round++) {
    for (const [name, r] of runners) {
      if (round >= 3 && (spent.get(name) ?? 0) > budgetMs) continue;
      // A pause between engines lets thread pools that spin after a run (onnxruntime's) go idle first.
      await new Promise((resolve) => setTimeout(resolve, 10));
      const t0 = performance.now();
      await r.run();
      const dt = performance.now() - t0;
      times.get(name)!.push(dt);
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

async function main(): Promise<void> {
  if (await runSuite(process.argv.slice(2))) process.exit(0);
  const args = parseArgs(process.argv.slice(2));
  const m = machine();
  const ws = workloads(args.quick).filter((w) => !args.only || args.only.includes(w.kind));
  const engines: Engine[] = [
    ...(await formersEngines(null)),
    ...(await tfjsEngines()),
    ...[await onnxEngine()].filter((e): e is Engine => e !== null),
  ].filter((e) => !args.engines || args.engines.some((n) => e.name.includes(n)));
  const notes = new Map(engines.map((e) => [e.name, e.note]));
  console.log(`${m.date} | ${m.cpu} | ${m.cores} cores | Node ${m.node}`);
  for (const [name, note] of notes) console.log(`  ${name}: ${note}`);

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

  const md = markdown(results, m, notes, args.quick);
  if (args.json) writeFileSync(args.json, JSON.stringify({ machine: m, quick: args.quick, notes: Object.fromEntries(notes), results }, null, 2));
  if (args.md) writeFileSync(args.md, md + '\n');
  console.log('\n' + md);
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
    console.log(`${r.workload.padEnd(36)} ${r.engine.padEnd(18)} ${r.medianMs.toFixed(2).padStart(9)} ms ${gf}${ratio}  (${r.reps} runs)`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
