#!/usr/bin/env node
// Browser conformance: the cross-backend suite (../conformance/cases.ts) in headless Chromium.
//
// Bundles page.ts (the package source, the cases and the page driver) with esbuild, serves it on 127.0.0.1,
// drives Debian's /usr/bin/chromium through playwright-core (never `playwright install`), and runs the suite on
// every backend the page reports available, one fresh browser per backend so that a hung shader cannot take
// the others down. Ends with one line that tooling/scripts/test-all.mjs parses:
//
//   browser conformance: N passed, N failed
//
// and exits non-zero on any failure (a backend that times out counts its unfinished cases as failed).
//
//   node packages/gpu-kernels/test/browser/run.mjs [--backends reference,wasm,...] [--list full|reduced]
//                                                  [--timeout S]
//
// --list: `full` (the default) runs every case; `reduced` (case-selection.ts: one case per kernel, op, dtype and
// shape class, so every edge and layout class stays) is for machines where shader compiles on a software
// renderer would not fit the time budget.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = resolve(here, '../..');
const require = createRequire(import.meta.url);
const CHROMIUM = '/usr/bin/chromium';
// The launch flags of ../shared/design.md ("Running GPU-style backends without a GPU"); --user-data-dir is a
// fresh temporary folder per launch (playwright passes it from launchPersistentContext).
const FLAGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--ignore-gpu-blocklist',
  '--use-gl=angle',
  '--use-angle=gl-egl',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
// Time budget per backend, in seconds (--timeout): a backend that exceeds it counts its unfinished cases as
// failed. The full list takes 5 to 25 s per backend here (2 cores, software renderers).
const BUDGET_S = 150;

function parseArgs(argv) {
  const args = { backends: null, list: null, timeoutS: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`browser conformance: expected a value after ${a}`);
      return v;
    };
    if (a === '--') continue;
    else if (a === '--backends') args.backends = value().split(',').filter(Boolean);
    else if (a === '--list') {
      args.list = value();
      if (args.list !== 'full' && args.list !== 'reduced') throw new Error(`browser conformance: --list expects full or reduced; got ${args.list}`);
    } else if (a === '--timeout') {
      args.timeoutS = Number(value());
      if (!(args.timeoutS > 0)) throw new Error(`browser conformance: --timeout expects seconds > 0; got ${argv[i]}`);
    } else throw new Error(`browser conformance: unknown argument ${a}; expected --backends, --list, --timeout`);
  }
  return args;
}

/** esbuild comes with tsup (a root devDependency); it is not a dependency of this package itself. */
function loadEsbuild() {
  try {
    return require('esbuild');
  } catch {
    return createRequire(require.resolve('tsup'))('esbuild');
  }
}

async function bundle() {
  const esbuild = loadEsbuild();
  const source = {
    name: 'formers-source',
    setup(build) {
      // Tests run against source: the package name resolves to src/index.ts, as in vitest.
      build.onResolve({ filter: /^@formers\/gpu-kernels$/ }, () => ({ path: join(pkg, 'src/index.ts') }));
    },
  };
  const result = await esbuild.build({
    entryPoints: [join(here, 'page.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: 'inline',
    logLevel: 'silent',
    plugins: [source],
    // Node-only optional pieces a backend may import lazily; in the page they are absent and must stay so.
    external: ['webgpu', 'gl', 'node:*', 'worker_threads', 'fs', 'path', 'os', 'url', 'module'],
  });
  return result.outputFiles[0].text;
}

function serve(script) {
  const html = '<!doctype html><meta charset="utf-8"><title>formers conformance</title><script type="module" src="/page.js"></script>';
  const server = createServer((req, res) => {
    // Cross-origin isolation makes SharedArrayBuffer (threaded wasm) available, as a real app would set it up.
    const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cache-Control': 'no-store' };
    if (req.url === '/' || req.url === '/index.html') {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/html; charset=utf-8' }).end(html);
    } else if (req.url === '/page.js') {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript; charset=utf-8' }).end(script);
    } else {
      res.writeHead(404, headers).end();
    }
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${server.address().port}/` }));
  });
}

/** A fresh headless Chromium with its own profile folder, and the page loaded with `__formers` ready. */
async function openPage(url, onProgress) {
  const { chromium } = require('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'formers-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    env: { ...process.env, VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? '/usr/lib/chromium/vk_swiftshader_icd.json' },
  });
  const close = async () => {
    await Promise.race([context.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    if (onProgress) await page.exposeFunction('__formersProgress', onProgress);
    await page.goto(url);
    await page.waitForFunction(() => globalThis.__formers !== undefined, null, { timeout: 30_000 }).catch(() => {
      throw new Error(`the page did not start: ${errors.join('; ') || 'no __formers after 30 s'}`);
    });
    return { page, close };
  } catch (e) {
    await close();
    throw e;
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${what} timed out after ${(ms / 1000).toFixed(0)} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function chromiumVersion() {
  const r = spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8' });
  return (r.stdout || '').trim() || 'unknown version';
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  let passed = 0;
  let failed = 0;
  // Printed as they come, so a slow backend shows how far the run got.
  const say = (line) => console.log(line);
  const script = await bundle();
  const { server, url } = await serve(script);
  try {
    console.log(`browser conformance: ${chromiumVersion()}, playwright-core ${require('playwright-core/package.json').version}`);
    // 1. What the browser offers and which backends the registry finds available there.
    const probe = await openPage(url, null);
    let env;
    let listings;
    try {
      env = await withTimeout(probe.page.evaluate(() => globalThis.__formers.environment()), 60_000, 'environment probe');
      listings = await withTimeout(probe.page.evaluate(() => globalThis.__formers.backends()), 60_000, 'backend probe');
    } finally {
      await probe.close();
    }
    console.log(`  ${env.userAgent}; crossOriginIsolated ${env.crossOriginIsolated}`);
    console.log(`  WebGL2: ${env.webgl2.ok ? env.webgl2.detail : `UNAVAILABLE (${env.webgl2.detail})`}`);
    console.log(`  WebGPU: ${env.webgpu.ok ? env.webgpu.detail : `UNAVAILABLE (${env.webgpu.detail})`}`);

    const wanted = args.backends ?? listings.map((l) => l.name);
    const toRun = [];
    for (const l of listings) {
      if (!wanted.includes(l.name)) continue;
      if (l.registered && l.available) {
        toRun.push(l.name);
        continue;
      }
      const why = !l.registered ? 'not registered in this build' : 'its availability check says no in this browser';
      const gpuNote = l.name === 'webgpu' && !env.webgpu.ok ? `; WebGPU itself: ${env.webgpu.detail}` : l.name === 'webgl2' && !env.webgl2.ok ? `; WebGL2 itself: ${env.webgl2.detail}` : '';
      say(`  ${l.name}: unavailable (${why}${gpuNote})`);
      if (args.backends) failed++; // asked for explicitly: its absence is a failure, not a quiet skip
    }
    for (const required of ['reference', 'wasm']) {
      if (wanted.includes(required) && !toRun.includes(required)) {
        say(`  ${required}: expected to run in every browser`);
        if (!args.backends) failed++;
      }
    }

    // 2. The suite, one fresh browser per backend, each within its time budget.
    for (const name of toRun) {
      const list = args.list ?? 'full';
      const budgetMs = (args.timeoutS ?? BUDGET_S) * 1000;
      const progress = { done: 0, total: 0, passed: 0, failed: 0, skipped: 0, last: '', failures: [] };
      const onProgress = (done, total, id, status, message) => {
        Object.assign(progress, { done, total, last: id });
        if (status === 'pass') progress.passed++;
        else if (status === 'skip') progress.skipped++;
        else {
          progress.failed++;
          progress.failures.push({ id, message });
        }
      };
      const t0 = Date.now();
      let session = null;
      try {
        session = await openPage(url, onProgress);
        const report = await withTimeout(
          session.page.evaluate((req) => globalThis.__formers.run(req), { backend: name, list }),
          budgetMs,
          `${name}`,
        );
        // A kernel gpu.js silently ran on its cpu backend is one more failure: the mode under test did not run it.
        const failedHere = report.failures.length + (report.degraded.length > 0 ? 1 : 0);
        passed += report.passed;
        failed += failedHere;
        // The backend's own list of kernels it hands to another backend (with reasons in backend.fallbacks).
        const delegated = report.fallbacks.map((f) => f.split(': ')[0]).filter((k) => !k.endsWith(':gpujs-cpu'));
        const fb = delegated.length > 0 ? `; delegated by design: ${delegated.join(', ')}` : '';
        say(
          `  ${name}: ${report.passed} passed, ${failedHere} failed, ${report.skipped} skipped ` +
            `(${report.list} list of ${report.total}, ${report.dtypes.join('/')}, ${(report.ms / 1000).toFixed(1)} s${fb})`,
        );
        if (report.degraded.length > 0) say(`    FAIL gpu.js ran these on its cpu backend instead of ${name}: ${report.degraded.join(', ')}`);
        for (const f of report.failures.slice(0, 20)) say(`    FAIL ${f.message || f.id}`);
        if (report.failures.length > 20) say(`    ... and ${report.failures.length - 20} more`);
      } catch (e) {
        // A timeout or a crash: what finished counts as it went, every unfinished case counts as failed.
        const unfinished = progress.total > 0 ? progress.total - progress.done : 1;
        const skippedNote = progress.skipped > 0 ? `, ${progress.skipped} skipped` : '';
        passed += progress.passed;
        failed += progress.failed + unfinished;
        say(
          `  ${name}: ${progress.passed} passed, ${progress.failed + unfinished} failed${skippedNote} (${e instanceof Error ? e.message : String(e)}; ` +
            `${progress.done}/${progress.total || '?'} cases done in ${((Date.now() - t0) / 1000).toFixed(0)} s, last ${progress.last || 'none'}; ` +
            `unfinished cases count as failed)`,
        );
        for (const f of progress.failures.slice(0, 20)) say(`    FAIL ${f.message || f.id}`);
        if (progress.failures.length > 20) say(`    ... and ${progress.failures.length - 20} more`);
      } finally {
        await session?.close();
      }
    }
  } catch (e) {
    // The harness itself failed (bundle, server, browser launch): one failure, never a silent pass.
    failed++;
    say(`  harness error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  } finally {
    server.close();
  }
  console.log(`  total ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(`browser conformance: ${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  console.log('browser conformance: 0 passed, 1 failed');
  process.exit(1);
});
