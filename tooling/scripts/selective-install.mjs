// "Install just the package you need": build and `pnpm pack` gpu-kernels and tensor-core, install each tarball
// with npm into an empty temporary project (tensor-core together with the gpu-kernels tarball it depends on,
// nothing else from this repo), and import it from ESM and from CJS.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const work = mkdtempSync(join(tmpdir(), 'formers-pack-'));
let passed = 0;
let failed = 0;
const sh = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: 'pipe', encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'error' } });

function check(name, fn) {
  try { fn(); passed++; console.log(`  ok   ${name}`); }
  catch (e) { failed++; console.log(`  FAIL ${name}\n${String(e.stdout ?? '')}${String(e.stderr ?? '')}${e.message}`); }
}

const tarballs = {};
for (const pkg of ['gpu-kernels', 'tensor-core']) {
  check(`build + pack @formers/${pkg}`, () => {
    const dir = join(root, 'packages', pkg);
    sh('pnpm', ['exec', 'tsup', '--silent'], dir);
    sh('pnpm', ['pack', '--pack-destination', work], dir);
    tarballs[pkg] = join(work, readdirSync(work).find((f) => f.startsWith(`formers-${pkg}-`)));
  });
}

const probes = {
  'gpu-kernels': {
    esm: "import { createReferenceBackend } from '@formers/gpu-kernels'; const b = createReferenceBackend(); const y = b.readSync(b.unary('exp', { data: b.upload(new Float32Array([0, 1]), 'float32'), dtype: 'float32', shape: [2], strides: [1], offset: 0 }, 'float32'), 'float32', 2); if (Math.abs(y[1] - Math.E) > 1e-6) throw new Error('bad exp ' + y[1]); console.log('esm ok');",
    cjs: "const { createReferenceBackend } = require('@formers/gpu-kernels'); if (typeof createReferenceBackend !== 'function') throw new Error('missing export'); console.log('cjs ok');",
    install: ['gpu-kernels'],
  },
  'tensor-core': {
    esm: "import { tensor } from '@formers/tensor-core'; const t = tensor([[1, 2], [3, 4]]); const s = t.sum().item(); if (s !== 10) throw new Error('bad sum ' + s); console.log('esm ok');",
    cjs: "const { tensor } = require('@formers/tensor-core'); const t = tensor([1, 2, 3], { requiresGrad: true }); t.mul(t).sum().backward(); if (t.grad.tolist()[2] !== 6) throw new Error('bad grad'); console.log('cjs ok');",
    install: ['gpu-kernels', 'tensor-core'],
  },
};

for (const [pkg, probe] of Object.entries(probes)) {
  if (!probe.install.every((p) => tarballs[p])) { failed += 2; continue; }
  const proj = mkdtempSync(join(work, `app-${pkg}-`));
  writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'probe', version: '1.0.0', private: true }));
  check(`npm install @formers/${pkg} alone`, () =>
    sh('npm', ['install', '--no-audit', '--no-fund', '--omit=optional', ...probe.install.map((p) => tarballs[p])], proj));
  writeFileSync(join(proj, 'probe.mjs'), probe.esm);
  writeFileSync(join(proj, 'probe.cjs'), probe.cjs);
  check(`@formers/${pkg} from ESM`, () => sh('node', ['probe.mjs'], proj));
  check(`@formers/${pkg} from CJS`, () => sh('node', ['probe.cjs'], proj));
}

rmSync(work, { recursive: true, force: true });
console.log(`selective install: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
