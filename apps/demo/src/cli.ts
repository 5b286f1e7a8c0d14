import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendInfo } from '@formers/gpu-kernels';
import { SingleBar, Presets } from 'cli-progress';
import { attentionTour } from './tours/attention-tour.js';
import { ropeTour } from './tours/rope-tour.js';
import { ssmTour } from './tours/ssm-tour.js';
import { vitTour } from './tours/vit-tour.js';
import { runDemo } from './train-mlp.js';

// cli-progress draws the bars: a small maintained library does this job better than a hand-rolled one.
const bar = (format: string) => new SingleBar({ format, hideCursor: true }, Presets.shades_classic);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

// 1. tensor-core: train, save, reload, evaluate.
const steps = 300;
const file = resolve(dirname(fileURLToPath(import.meta.url)), '../.tmp/mlp.safetensors');
mkdirSync(dirname(file), { recursive: true });
const mlpBar = bar('training MLP {bar} {value}/{total} steps | loss {loss}');
mlpBar.start(steps, 0, { loss: '-' });
const result = runDemo({
  steps,
  onStep: (step, loss) => mlpBar.update(step + 1, { loss: loss.toFixed(4) }),
  store: { write: (bytes) => writeFileSync(file, bytes), read: () => new Uint8Array(readFileSync(file)) },
});
mlpBar.stop();

const info = backendInfo();
console.log(`backend: ${info.active}${info.fallbackReason ? ` (fell back: ${info.fallbackReason})` : ''}`);
console.log(`1. trained a 2-32-2 MLP on two moons: final loss ${result.finalLoss.toFixed(4)}, train accuracy ${pct(result.trainAccuracy)}`);
console.log(`2. saved it as safetensors: ${file} (${result.savedBytes} bytes; ${result.tensorNames.join(', ')})`);
console.log('3. loaded the file into a fresh model (strict state_dict load)');
console.log(`4. reloaded model accuracy on 256 held-out points: ${pct(result.reloadedAccuracy)}`);

// 2. position-encodings: RoPE is relative.
console.log('\nRoPE (position-encodings): <R_m q, R_n k> depends only on m - n');
for (const r of ropeTour({ offset: 3 })) console.log(`  m = ${String(r.m).padStart(2)}, n = ${String(r.n).padStart(2)}: score ${r.score.toFixed(6)}`);

// 3. attention-linear: efficient attentions next to softmax, and causal modes that agree.
const att = attentionTour();
console.log(`\nattention (attention-linear), N = ${att.seqLen}, H = ${att.numHeads}, Dh = ${att.headDim}:`);
for (const r of att.variants) console.log(`  ${r.name.padEnd(28)} relative error vs softmax ${r.relErrorVsSoftmax.toFixed(3)}`);
console.log(`  causal linear attention: max |parallel - recurrent| = ${att.causalModeGap.toExponential(2)}`);

// 4. ssm-hippo: the HiPPO -> S4D -> Mamba line.
const ssm = ssmTour();
console.log('\nstate-space models (ssm-hippo):');
console.log(`  HiPPO-LegS memory of a smooth signal, max reconstruction error: ${ssm.legsError.map((e) => `N=${e.N} ${e.maxError.toExponential(1)}`).join(', ')}`);
console.log(`  S4D: max |convolution - recurrent| = ${ssm.s4dModeGap.toExponential(2)}`);
console.log(`  Mamba: max |parallel scan - step by step| = ${ssm.mambaModeGap.toExponential(2)}`);

// 5. vision-transformer: a CPVT-GAP ViT at a resolution it never saw.
const vitSteps = 250;
const vitBar = bar('training CPVT-GAP {bar} {value}/{total} steps | loss {loss}');
vitBar.start(vitSteps, 0, { loss: '-' });
const vit = vitTour({ steps: vitSteps, evalCount: 150, onStep: (s, l) => vitBar.update(s, { loss: l.toFixed(3) }) });
vitBar.stop();
console.log(`\nCPVT-GAP (vision-transformer) on ${vit.numClasses} generated shapes, trained at 32 px: loss ${vit.firstLoss.toFixed(3)} -> ${vit.lastLoss.toFixed(3)}`);
for (const a of vit.accuracy) console.log(`  top-1 at ${a.size} px${a.size === 32 ? ' (train size)' : ' (never seen)'}: ${pct(a.accuracy)}`);
console.log('  the full comparison across position encodings: pnpm --filter @formers/vision-transformer experiment:cpvt');
