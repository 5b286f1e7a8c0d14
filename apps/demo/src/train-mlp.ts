import {
  AdamW,
  MLP,
  clipGradNorm_,
  crossEntropy,
  loadSafetensors,
  manualSeed,
  noGrad,
  saveSafetensors,
  type Tensor,
} from '@formers/tensor-core';
import { twoMoons } from './two-moons.js';

export interface DemoOptions {
  steps?: number;
  hidden?: number;
  seed?: number;
  onStep?: (step: number, loss: number) => void;
  /** Where the safetensors bytes go and come back from; defaults to memory. The CLI passes a file. */
  store?: { write(bytes: Uint8Array): void; read(): Uint8Array };
}

export interface DemoResult {
  finalLoss: number;
  trainAccuracy: number;
  /** Accuracy of a fresh model loaded from the saved safetensors bytes, on held-out points. */
  reloadedAccuracy: number;
  savedBytes: number;
  tensorNames: string[];
}

function accuracy(model: MLP, x: Tensor, y: Tensor): number {
  return noGrad(() => {
    const pred = model.call(x).argmax({ dim: 1 }).dataSync(); // (N,)
    const labels = y.dataSync();
    let hit = 0;
    for (let i = 0; i < labels.length; i++) hit += pred[i] === labels[i] ? 1 : 0;
    return hit / labels.length;
  });
}

/**
 * The end-to-end demo: train a small MLP on two moons, save it as safetensors, load the bytes into a fresh
 * model, and report the reloaded model's accuracy on held-out data.
 */
export function runDemo(options: DemoOptions = {}): DemoResult {
  const { steps = 300, hidden = 32, seed = 0, onStep } = options;
  let memory: Uint8Array = new Uint8Array(0);
  const store = options.store ?? { write: (b: Uint8Array) => void (memory = b), read: () => memory };
  manualSeed(seed);
  const train = twoMoons({ n: 512, seed });
  const test = twoMoons({ n: 256, seed: seed + 1 });

  const model = new MLP({ inFeatures: 2, hiddenFeatures: hidden, outFeatures: 2 });
  const opt = new AdamW(model.parameters(), { lr: 1e-2, weightDecay: 1e-4 });
  let finalLoss = Number.NaN;
  for (let step = 0; step < steps; step++) {
    opt.zeroGrad();
    const loss = crossEntropy(model.call(train.x), train.y);
    loss.backward();
    clipGradNorm_(model.parameters(), 1.0);
    opt.step();
    finalLoss = loss.item();
    onStep?.(step, finalLoss);
  }
  const trainAccuracy = accuracy(model, train.x, train.y);

  store.write(saveSafetensors(model.stateDict(), { format: 'pt', producer: '@formers/demo' }));
  const bytes = store.read();
  const reloaded = new MLP({ inFeatures: 2, hiddenFeatures: hidden, outFeatures: 2 });
  const { tensors } = loadSafetensors(bytes);
  reloaded.loadStateDict(tensors, { strict: true });
  reloaded.eval();
  return {
    finalLoss,
    trainAccuracy,
    reloadedAccuracy: accuracy(reloaded, test.x, test.y),
    savedBytes: bytes.byteLength,
    tensorNames: [...tensors.keys()],
  };
}
