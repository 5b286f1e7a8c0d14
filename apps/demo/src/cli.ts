import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendInfo } from '@formers/gpu-kernels';
import { SingleBar, Presets } from 'cli-progress';
import { runDemo } from './train-mlp.js';

// cli-progress draws the bar: a small maintained library does this job better than a hand-rolled one.
const steps = 300;
const file = resolve(dirname(fileURLToPath(import.meta.url)), '../.tmp/mlp.safetensors');
mkdirSync(dirname(file), { recursive: true });

const bar = new SingleBar({ format: 'training {bar} {value}/{total} steps | loss {loss}', hideCursor: true }, Presets.shades_classic);
bar.start(steps, 0, { loss: '-' });
const result = runDemo({
  steps,
  onStep: (step, loss) => bar.update(step + 1, { loss: loss.toFixed(4) }),
  store: { write: (bytes) => writeFileSync(file, bytes), read: () => new Uint8Array(readFileSync(file)) },
});
bar.stop();

const info = backendInfo();
console.log(`backend: ${info.active}${info.fallbackReason ? ` (fell back: ${info.fallbackReason})` : ''}`);
console.log(`1. trained a 2-32-2 MLP on two moons: final loss ${result.finalLoss.toFixed(4)}, train accuracy ${(100 * result.trainAccuracy).toFixed(1)}%`);
console.log(`2. saved it as safetensors: ${file} (${result.savedBytes} bytes; ${result.tensorNames.join(', ')})`);
console.log('3. loaded the file into a fresh model (strict state_dict load)');
console.log(`4. reloaded model accuracy on 256 held-out points: ${(100 * result.reloadedAccuracy).toFixed(1)}%`);
