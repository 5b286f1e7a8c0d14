// "Install just the package you need": build and `pnpm pack` every published package, install each tarball with
// npm into an empty temporary project together with only the tarballs it depends on (tensor-core with
// gpu-kernels, a leaf with those two, vision-transformer with its three), and import it from ESM and from CJS.
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
for (const pkg of ['gpu-kernels', 'tensor-core', 'position-encodings', 'attention-linear', 'ssm-hippo', 'vision-transformer']) {
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
  'position-encodings': {
    esm: "import { randn } from '@formers/tensor-core'; import { RotaryEmbedding } from '@formers/position-encodings'; const x = randn([4, 8]); const y = new RotaryEmbedding({ dim: 8 }).rotate(x); const d = Math.abs(y.square().sum().item() - x.square().sum().item()); if (d > 1e-3) throw new Error('rope changed the norm by ' + d); console.log('esm ok');",
    cjs: "const { sinusoidalPositionEncoding } = require('@formers/position-encodings'); const t = sinusoidalPositionEncoding(4, 6); if (t.shape.join() !== '4,6') throw new Error('bad shape ' + t.shape); console.log('cjs ok');",
    install: ['gpu-kernels', 'tensor-core', 'position-encodings'],
  },
  'attention-linear': {
    esm: "import { randn } from '@formers/tensor-core'; import { createAttentionCore } from '@formers/attention-linear'; const q = randn([1, 2, 5, 4]); const y = createAttentionCore({ type: 'linear' }, { numHeads: 2, headDim: 4 }).forward(q, q, q, { causal: true }); if (y.shape.join() !== '1,2,5,4') throw new Error('bad shape ' + y.shape); console.log('esm ok');",
    cjs: "const { randn } = require('@formers/tensor-core'); const { SoftmaxAttention } = require('@formers/attention-linear'); const q = randn([1, 1, 3, 2]); const s = new SoftmaxAttention().forward(q, q, q).shape.join(); if (s !== '1,1,3,2') throw new Error('bad shape ' + s); console.log('cjs ok');",
    install: ['gpu-kernels', 'tensor-core', 'attention-linear'],
  },
  'ssm-hippo': {
    esm: "import { randn } from '@formers/tensor-core'; import { Mamba } from '@formers/ssm-hippo'; const y = new Mamba(8).call(randn([1, 5, 8])); if (y.shape.join() !== '1,5,8') throw new Error('bad shape ' + y.shape); console.log('esm ok');",
    cjs: "const { hippoLegS } = require('@formers/ssm-hippo'); const t = hippoLegS(4); if (!t.A || !t.B) throw new Error('missing A/B'); console.log('cjs ok');",
    install: ['gpu-kernels', 'tensor-core', 'ssm-hippo'],
  },
  'vision-transformer': {
    esm: "import { SyntheticShapes, VisionTransformer, stackImages } from '@formers/vision-transformer'; const d = new SyntheticShapes({ seed: 0 }); const m = new VisionTransformer({ imgSize: 16, patchSize: 8, embedDim: 8, depth: 1, numHeads: 2, numClasses: d.numClasses, posEncoding: { type: 'peg' } }); const y = m.call(stackImages([d.sample(0, 16).image])); if (y.shape.join() !== '1,' + d.numClasses) throw new Error('bad shape ' + y.shape); console.log('esm ok');",
    cjs: "const { createModel } = require('@formers/vision-transformer'); const m = createModel('cpvt_ti_gap', { initWeights: false }); if (!m.stateDict().has('pos_block.0.proj.0.weight')) throw new Error('missing PEG key'); console.log('cjs ok');",
    install: ['gpu-kernels', 'tensor-core', 'position-encodings', 'attention-linear', 'vision-transformer'],
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
