/** The synthetic dataset, transforms and image io. */
import fc from 'fast-check';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { Generator } from '@formers/tensor-core';
import { describe, expect, it } from 'vitest';
import {
  decodeImage,
  evalTransform,
  IMAGENET_MEAN,
  IMAGENET_STD,
  normalize,
  randomHorizontalFlip,
  randomResizedCrop,
  SHAPES,
  stackImages,
  SyntheticShapes,
  type RenderedImage,
} from '../src/index.js';

function pixel(img: RenderedImage, u: number, v: number): number[] {
  const i = Math.min(img.height - 1, Math.floor(v * img.height));
  const j = Math.min(img.width - 1, Math.floor(u * img.width));
  const p = img.height * img.width;
  return [0, 1, 2].map((c) => img.data[c * p + i * img.width + j]);
}

describe('SyntheticShapes', () => {
  it('is deterministic per (seed, index), whatever the access order', () => {
    const a = new SyntheticShapes({ seed: 3 });
    const b = new SyntheticShapes({ seed: 3 });
    const later = b.sample(17, 32);
    b.sample(4, 48);
    expect(a.sample(17, 32).image.data).toEqual(later.image.data);
    expect(a.scene(17)).toEqual(b.scene(17));
    expect(new SyntheticShapes({ seed: 4 }).scene(17)).not.toEqual(a.scene(17));
  });

  it('draws every class, with captions naming shape, colour and background', () => {
    const ds = new SyntheticShapes({ seed: 0 });
    const labels = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const s = ds.scene(i);
      labels.add(s.label);
      expect(s.shape).toBe(SHAPES[s.label]);
      expect(s.caption).toMatch(new RegExp(`^a (small|medium|large) ${s.colorName} ${s.shape} .* on a ${s.texture} background$`));
    }
    expect(labels.size).toBe(SHAPES.length);
  });

  it('renders the same scene at any resolution: the shape colour sits at the same relative place (property)', () => {
    const ds = new SyntheticShapes({ seed: 9 });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.constantFrom(32, 48, 64), (index, size) => {
        const s = ds.scene(index);
        // A point well inside every shape: the centre, or halfway into the ring's band.
        const u = s.shape === 'ring' ? s.cx + 0.8 * s.radius : s.cx;
        const v = s.shape === 'triangle' ? s.cy + 0.4 * s.radius : s.cy;
        const img = ds.render(s, size);
        expect(img.data.length).toBe(3 * size * size);
        pixel(img, u, v).forEach((c, k) => expect(c).toBeCloseTo(s.color[k], 5));
        expect(img.data.every((x) => x >= 0 && x <= 1)).toBe(true);
      }),
      { seed: 7, numRuns: 40 },
    );
  });

  it('stacks images into (B, 3, H, W) and rejects mixed sizes and bad options', () => {
    const ds = new SyntheticShapes();
    expect(stackImages([ds.sample(0, 16).image, ds.sample(1, 16).image]).shape).toEqual([2, 3, 16, 16]);
    expect(() => stackImages([ds.sample(0, 16).image, ds.sample(1, 8).image])).toThrow(/expected every image to be 16 x 16; image 1 is 8 x 8/);
    expect(() => new SyntheticShapes({ radiusRange: [0.3, 0.1] })).toThrow(/radiusRange/);
    expect(() => new SyntheticShapes({ textures: ['plaid' as never] })).toThrow(/opts.textures to be a non-empty list of 'striped', 'checkered', 'gradient'; got \["plaid"\]/);
    expect(new Set(Array.from({ length: 30 }, (_, i) => new SyntheticShapes({ textures: ['gradient'] }).scene(i).texture))).toEqual(new Set(['gradient']));
    expect(() => ds.scene(-1)).toThrow(/index to be an integer >= 0/);
  });
});

describe('transforms', () => {
  const img = new SyntheticShapes({ seed: 1 }).sample(5, 32).image;

  it('randomResizedCrop gives the requested size, is reproducible with the generator, and does not mutate', () => {
    const before = Float32Array.from(img.data);
    const a = randomResizedCrop(img, { size: 24, scale: [0.3, 1] }, new Generator(1));
    const b = randomResizedCrop(img, { size: 24, scale: [0.3, 1] }, new Generator(1));
    expect([a.height, a.width, a.data.length]).toEqual([24, 24, 3 * 24 * 24]);
    expect(a.data).toEqual(b.data);
    expect(img.data).toEqual(before);
  });

  it('a full-image crop at the same size is the identity; flipping twice is the identity', () => {
    const same = randomResizedCrop(img, { size: 32, scale: [1, 1], ratio: [1, 1] }, new Generator(2));
    Array.from(same.data).forEach((v, i) => expect(v).toBeCloseTo(img.data[i], 6));
    const g = new Generator(3);
    let flipped = img;
    let n = 0;
    while (n < 2) {
      const next = randomHorizontalFlip(flipped, g);
      if (next !== flipped) n++;
      flipped = next;
    }
    expect(flipped.data).toEqual(img.data);
  });

  it('normalize uses the ImageNet mean and std per channel', () => {
    const n = normalize(img);
    const p = 32 * 32;
    for (const k of [0, 100, 1000]) for (let c = 0; c < 3; c++) expect(n.data[c * p + k]).toBeCloseTo((img.data[c * p + k] - IMAGENET_MEAN[c]) / IMAGENET_STD[c], 5);
  });
});

describe('image io (pngjs, jpeg-js) and the timm eval transform', () => {
  function rgba(w: number, h: number, f: (x: number, y: number) => [number, number, number]): Uint8Array {
    const d = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const [r, g, b] = f(x, y);
      d.set([r, g, b, 255], 4 * (y * w + x));
    }
    return d;
  }

  it('decodes PNG exactly', () => {
    const png = new PNG({ width: 5, height: 3 });
    const data = rgba(5, 3, (x, y) => [x * 50, y * 100, 7]);
    png.data = Buffer.from(data);
    const decoded = decodeImage(new Uint8Array(PNG.sync.write(png)));
    expect([decoded.width, decoded.height]).toEqual([5, 3]);
    expect(Array.from(decoded.data)).toEqual(Array.from(data));
  });

  it('decodes JPEG (lossy: within a few levels on a smooth image)', () => {
    const data = rgba(16, 16, (x, y) => [100 + x * 4, 80 + y * 4, 120]);
    const bytes = jpeg.encode({ width: 16, height: 16, data }, 95).data;
    const decoded = decodeImage(new Uint8Array(bytes));
    expect([decoded.width, decoded.height]).toEqual([16, 16]);
    for (let k = 0; k < data.length; k++) if (k % 4 !== 3) expect(Math.abs(decoded.data[k] - data[k])).toBeLessThanOrEqual(6);
  });

  it('evalTransform: shorter side to size / cropPct, centre crop, ImageNet normalisation', () => {
    const w = 300;
    const h = 200;
    const flat = decodeImage(new Uint8Array(PNG.sync.write(Object.assign(new PNG({ width: w, height: h }), { data: Buffer.from(rgba(w, h, () => [51, 102, 204])) }))));
    const x = evalTransform(flat, { size: 64, cropPct: 0.875 });
    expect(x.shape).toEqual([1, 3, 64, 64]);
    const v = x.dataSync();
    const expected = [51, 102, 204].map((c, k) => (c / 255 - IMAGENET_MEAN[k]) / IMAGENET_STD[k]);
    for (let c = 0; c < 3; c++) for (const k of [0, 1000, 4095]) expect(v[c * 4096 + k]).toBeCloseTo(expected[c], 4);
  });

  it('evalTransform crops the centre: a left/right split image keeps its split in the middle', () => {
    const img = { data: new Float32Array(3 * 40 * 60), channels: 3 as const, height: 40, width: 60 };
    for (let c = 0; c < 3; c++) for (let i = 0; i < 40; i++) for (let j = 30; j < 60; j++) img.data[c * 2400 + i * 60 + j] = 1;
    const x = evalTransform(img, { size: 20, cropPct: 1, mean: [0, 0, 0], std: [1, 1, 1] });
    const row = Array.from(x.dataSync().slice(10 * 20, 11 * 20));
    expect(row[0]).toBeCloseTo(0, 5);
    expect(row[19]).toBeCloseTo(1, 5);
    expect(row.slice(0, 9).every((v) => v < 0.05)).toBe(true);
    expect(row.slice(11).every((v) => v > 0.95)).toBe(true);
  });

  it('rejects bytes that are neither PNG nor JPEG, and malformed PNG', () => {
    expect(() => decodeImage(new Uint8Array([1, 2, 3, 4]))).toThrow(/expected PNG \(89 50 4e 47\) or JPEG \(ff d8 ff\) bytes; got a file starting 01 02 03 04/);
    expect(() => decodeImage(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0, 1]))).toThrow(/PNG data is malformed/);
  });
});
