/**
 * The CPVT resolution experiment (Chu et al. 2023, section 4.2 / table 3 in spirit, at toy scale): tiny ViTs of
 * the same width, depth and steps are trained at 32 px on SyntheticShapes with each position encoding, then
 * evaluated without fine-tuning at 32, 48 and 64 px (the same scenes rendered larger, so the patch grid grows
 * from 4 x 4 to 6 x 6 and 8 x 8). Prints the accuracy table (mean and std over seeds), writes it as JSON, an
 * SVG chart, and an ASCII chart in the terminal.
 *
 *   pnpm --filter @formers/vision-transformer experiment:cpvt [--steps 150] [--seeds 2] [--batch 32] ...
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import asciichartDefault from 'asciichart';
import { Generator } from '@formers/tensor-core';
import { backendInfo } from '@formers/gpu-kernels';
import { SyntheticShapes, Trainer, VisionTransformer, type VisionTransformerOptions } from '../src/index.js';

// asciichart is CommonJS: its functions and colours hang off the default export.
const asciichart = asciichartDefault as unknown as typeof import('asciichart');
const HERE = dirname(fileURLToPath(import.meta.url));

interface Args {
  steps: number;
  seeds: number;
  batch: number;
  lr: number;
  dim: number;
  depth: number;
  heads: number;
  patch: number;
  evalCount: number;
  sizes: number[];
  out: string;
  only: string[] | null;
  cropScale: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { steps: 450, seeds: 2, batch: 32, lr: 3e-3, dim: 32, depth: 2, heads: 2, patch: 8, evalCount: 300, sizes: [32, 48, 64], out: resolve(HERE, '../experiments'), only: null, cropScale: 0.85 };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    const v = argv[++i];
    if (v === undefined) throw new Error(`experiment:cpvt: missing a value after --${key}`);
    switch (key) {
      case 'steps': case 'seeds': case 'batch': case 'dim': case 'depth': case 'heads': case 'patch':
        a[key] = Number.parseInt(v, 10);
        break;
      case 'eval-count':
        a.evalCount = Number.parseInt(v, 10);
        break;
      case 'lr':
        a.lr = Number(v);
        break;
      case 'crop-scale':
        a.cropScale = Number(v);
        break;
      case 'sizes':
        a.sizes = v.split(',').map(Number);
        break;
      case 'out':
        a.out = resolve(v);
        break;
      case 'only':
        a.only = v.split(',');
        break;
      default:
        throw new Error(`experiment:cpvt: unknown option --${key} (known: --steps --seeds --batch --lr --dim --depth --heads --patch --eval-count --sizes --out --only --crop-scale)`);
    }
  }
  return a;
}

const VARIANTS: { name: string; opts: VisionTransformerOptions }[] = [
  { name: 'none', opts: { posEncoding: 'none' } },
  { name: 'learned', opts: { posEncoding: 'learned' } },
  { name: 'sincos2d', opts: { posEncoding: 'sincos2d' } },
  { name: 'rope2d', opts: { posEncoding: { type: 'rope2d', mode: 'axial' } } },
  { name: 'peg', opts: { posEncoding: 'peg' } },
  { name: 'peg+gap', opts: { posEncoding: 'peg', classToken: false, globalPool: 'avg' } },
];

function meanStd(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std };
}

function svgChart(rows: { name: string; acc: { mean: number; std: number }[] }[], sizes: number[], title: string): string {
  const W = 640, H = 360, L = 60, R = 130, T = 40, B = 50;
  const colors = ['#888888', '#d62728', '#ff7f0e', '#2ca02c', '#1f77b4', '#9467bd'];
  const lo = Math.max(0, Math.floor(Math.min(...rows.flatMap((r) => r.acc.map((a) => a.mean - a.std))) * 10) / 10);
  const x = (i: number) => L + ((W - L - R) * i) / Math.max(1, sizes.length - 1);
  const y = (v: number) => T + (H - T - B) * (1 - (v - lo) / (1 - lo));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${title}</text>`,
  ];
  for (let k = 0; k <= 5; k++) {
    const v = lo + ((1 - lo) * k) / 5;
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`, `<text x="${L - 8}" y="${y(v) + 4}" text-anchor="end">${(v * 100).toFixed(0)}%</text>`);
  }
  sizes.forEach((s, i) => parts.push(`<text x="${x(i)}" y="${H - B + 18}" text-anchor="middle">${s} px${i === 0 ? ' (train)' : ''}</text>`));
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">test resolution</text>`);
  rows.forEach((r, j) => {
    const c = colors[j % colors.length];
    parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${r.acc.map((a, i) => `${x(i)},${y(a.mean)}`).join(' ')}"/>`);
    r.acc.forEach((a, i) => {
      parts.push(`<line x1="${x(i)}" x2="${x(i)}" y1="${y(Math.min(1, a.mean + a.std))}" y2="${y(Math.max(lo, a.mean - a.std))}" stroke="${c}"/>`, `<circle cx="${x(i)}" cy="${y(a.mean)}" r="3" fill="${c}"/>`);
    });
    parts.push(`<rect x="${W - R + 12}" y="${T + j * 20 - 9}" width="12" height="12" fill="${c}"/>`, `<text x="${W - R + 30}" y="${T + j * 20 + 1}">${r.name}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  // Large shapes on smooth backgrounds: the easiest version of the task, since a from-scratch ViT learns slowly and
  // the default budget is ~10 minutes on 2 shared cores. The test set uses another seed, so no scene repeats.
  const data = { radiusRange: [0.22, 0.4] as const, textures: ['gradient'] as const };
  const train = new SyntheticShapes({ seed: 1, ...data });
  const test = new SyntheticShapes({ seed: 2, ...data });
  const variants = args.only ? VARIANTS.filter((v) => args.only!.includes(v.name)) : VARIANTS;
  const runs: { variant: string; seed: number; acc: Record<number, number>; finalLoss: number; seconds: number }[] = [];
  console.log(
    `CPVT experiment: ${variants.length} encodings x ${args.seeds} seeds, D=${args.dim} depth=${args.depth} heads=${args.heads} patch=${args.patch}, ` +
      `${args.steps} steps x batch ${args.batch} at 32 px, eval ${args.evalCount} images at ${args.sizes.join('/')} px; backend ${backendInfo().active}`,
  );
  for (const v of variants) {
    for (let seed = 0; seed < args.seeds; seed++) {
      const ts = performance.now();
      const model = new VisionTransformer({
        imgSize: 32, patchSize: args.patch, embedDim: args.dim, depth: args.depth, numHeads: args.heads, numClasses: train.numClasses,
        ...v.opts, generator: new Generator(1000 + seed),
      });
      const trainer = new Trainer({ model, dataset: train, imageSize: 32, batchSize: args.batch, totalSteps: args.steps, lr: args.lr, seed, augment: { scale: [args.cropScale, 1], flip: true }, title: `${v.name} seed ${seed}` });
      const hist = trainer.run();
      const finalLoss = hist.slice(-10).reduce((s, r) => s + r.loss, 0) / Math.min(10, hist.length);
      const acc: Record<number, number> = {};
      for (const s of args.sizes) acc[s] = trainer.evaluate(test, { size: s, count: args.evalCount });
      const seconds = (performance.now() - ts) / 1000;
      runs.push({ variant: v.name, seed, acc, finalLoss, seconds });
      console.log(`  ${v.name.padEnd(9)} seed ${seed}: loss ${finalLoss.toFixed(3)}  ` + args.sizes.map((s) => `${s}px ${(acc[s] * 100).toFixed(1)}%`).join('  ') + `  (${seconds.toFixed(0)} s)`);
    }
  }
  const rows = variants.map((v) => ({ name: v.name, acc: args.sizes.map((s) => meanStd(runs.filter((r) => r.variant === v.name).map((r) => r.acc[s]))) }));
  const header = `| position encoding | ${args.sizes.map((s) => `${s} px${s === 32 ? ' (train)' : ''}`).join(' | ')} |`;
  const table = [header, `|---|${args.sizes.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.name} | ${r.acc.map((a) => `${(a.mean * 100).toFixed(1)} ± ${(a.std * 100).toFixed(1)}`).join(' | ')} |`)].join('\n');
  const minutes = (performance.now() - t0) / 60000;
  console.log(`\nTop-1 accuracy (%) on ${args.evalCount} held-out scenes, mean ± std over ${args.seeds} seeds (${minutes.toFixed(1)} min):\n${table}\n`);
  // Step plot: each resolution repeated so the ASCII lines are readable.
  const rep = 12;
  const series = rows.map((r) => r.acc.flatMap((a) => new Array<number>(rep).fill(a.mean * 100)));
  const colors = [asciichart.lightgray, asciichart.red, asciichart.yellow, asciichart.green, asciichart.blue, asciichart.magenta];
  console.log(asciichart.plot(series, { height: 12, colors: colors.slice(0, series.length) }));
  console.log(`x: ${args.sizes.map((s) => `${s} px`.padEnd(rep)).join('')}  lines: ${rows.map((r, i) => `${r.name}=${['gray', 'red', 'yellow', 'green', 'blue', 'magenta'][i]}`).join(', ')}`);
  mkdirSync(args.out, { recursive: true });
  const result = {
    experiment: 'cpvt-resolution',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, backend: backendInfo().active },
    config: args,
    minutes,
    table: rows.map((r) => ({ posEncoding: r.name, accuracy: Object.fromEntries(args.sizes.map((s, i) => [`${s}px`, r.acc[i]])) })),
    runs,
  };
  writeFileSync(resolve(args.out, 'cpvt-results.json'), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(resolve(args.out, 'cpvt-chart.svg'), svgChart(rows, args.sizes, `CPVT experiment: accuracy vs test resolution (trained at 32 px, ${args.seeds} seeds)`) + '\n');
  console.log(`wrote ${resolve(args.out, 'cpvt-results.json')} and cpvt-chart.svg`);
}

main();
