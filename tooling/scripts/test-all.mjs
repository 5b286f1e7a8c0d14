// Runs every test suite in the repo and ends with one plain summary line: "N passed, N failed".
// Suites: each workspace package's vitest run (through turbo), the selective-install check, and the browser
// conformance run in headless Chromium when /usr/bin/chromium exists.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const workspaceDirs = ['packages', 'apps']
  .flatMap((d) => (existsSync(join(root, d)) ? readdirSync(join(root, d)).map((p) => join(root, d, p)) : []))
  .concat([join(root, 'tooling')]);
const reportOf = (dir) => join(dir, '.tmp', 'vitest-report.json');
for (const dir of workspaceDirs) rmSync(reportOf(dir), { force: true });

let passed = 0;
let failed = 0;
const stepFailures = [];

function run(label, cmd, args, opts = {}) {
  console.log(`\n=== ${label}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: opts.capture ? 'pipe' : 'inherit', encoding: 'utf8', env: process.env });
  if (opts.capture) process.stdout.write((r.stdout ?? '') + (r.stderr ?? ''));
  if (r.status !== 0) stepFailures.push(`${label} exited ${r.status ?? r.signal}`);
  return r;
}

// 1. Unit, property, gradient and golden tests of every package (vitest, against source).
// Under a virtual X display when xvfb-run exists, so that gpu.js's headlessgl backend (the optional `gl` addon)
// runs its conformance suite too; without one that suite reports itself skipped, with the reason.
const turbo = ['exec', 'turbo', 'run', 'test', '--concurrency=1', '--continue'];
const hasXvfb = spawnSync('sh', ['-c', 'command -v xvfb-run'], { encoding: 'utf8' }).status === 0;
if (hasXvfb && !process.env.DISPLAY) run('vitest (all packages, under xvfb-run)', 'xvfb-run', ['-a', 'pnpm', ...turbo]);
else run('vitest (all packages)', 'pnpm', turbo);
for (const dir of workspaceDirs) {
  if (!existsSync(reportOf(dir))) continue;
  const rep = JSON.parse(readFileSync(reportOf(dir), 'utf8'));
  passed += rep.numPassedTests;
  failed += rep.numFailedTests;
  console.log(`  ${dir.slice(root.length + 1)}: ${rep.numPassedTests} passed, ${rep.numFailedTests} failed, ${rep.numPendingTests + rep.numTodoTests} skipped`);
}

// 2. Selective installs: packed tarballs installed alone with npm, imported from ESM and CJS.
const sel = run('selective install', 'node', ['tooling/scripts/selective-install.mjs'], { capture: true });
const selLine = /selective install: (\d+) passed, (\d+) failed/.exec(sel.stdout ?? '');
if (selLine) { passed += Number(selLine[1]); failed += Number(selLine[2]); }

// 3. Browser backends (webgl2, webgpu) in headless Chromium.
const browserRunner = join(root, 'packages/gpu-kernels/test/browser/run.mjs');
if (existsSync(browserRunner) && existsSync('/usr/bin/chromium')) {
  const br = run('browser conformance', 'node', [browserRunner], { capture: true });
  const m = /browser conformance: (\d+) passed, (\d+) failed/.exec((br.stdout ?? '') + (br.stderr ?? ''));
  if (m) { passed += Number(m[1]); failed += Number(m[2]); }
} else {
  console.log('\n=== browser conformance: skipped (no /usr/bin/chromium; .ci/run installs it)');
}

if (stepFailures.length) console.log(`\nfailed steps: ${stepFailures.join('; ')}`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 || stepFailures.length > 0 ? 1 : 0);
