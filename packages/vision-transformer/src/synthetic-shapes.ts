/**
 * A deterministic synthetic image dataset: one coloured geometric shape (circle, square, triangle, cross, ring,
 * diamond) at a random position and scale on a textured background (stripes, checkerboard or a smooth gradient),
 * with its class label and a caption ("a large red circle in the top left on a striped background").
 *
 * A scene is drawn from a generator seeded by (seed, index) alone, so sample i is the same in every run, process
 * and order of access. Scenes live in continuous coordinates [0, 1]^2 and are rasterised on demand (2 x 2
 * supersampling per pixel), so the same scene renders at 32, 48 or 64 px: what the CPVT resolution experiment
 * needs. Nothing is downloaded. @formers/vlm-contrastive reuses the captions.
 */
import { Generator, tensor, type Tensor } from '@formers/tensor-core';
import { checkInt } from './validate.js';

export const SHAPES = ['circle', 'square', 'triangle', 'cross', 'ring', 'diamond'] as const;
export type ShapeName = (typeof SHAPES)[number];
export const TEXTURES = ['striped', 'checkered', 'gradient'] as const;
export type TextureName = (typeof TEXTURES)[number];

type RGB = [number, number, number];

/** Everything that defines one image, in resolution-free units. */
export interface Scene {
  readonly label: number;
  readonly shape: ShapeName;
  /** Centre in [0, 1]^2 (x to the right, y down). */
  readonly cx: number;
  readonly cy: number;
  /** Half-size as a fraction of the image side. */
  readonly radius: number;
  readonly color: RGB;
  readonly colorName: string;
  readonly texture: TextureName;
  readonly background: readonly [RGB, RGB];
  /** Texture frequency (periods per image side) and direction. */
  readonly frequency: number;
  readonly angle: number;
  readonly caption: string;
}

export interface SyntheticShapesOptions {
  /** Dataset seed (default 0): two datasets with different seeds share no scenes. */
  readonly seed?: number;
  /** Smallest and largest half-size as a fraction of the image side (default [0.14, 0.3]). */
  readonly radiusRange?: readonly [number, number];
  /** Background textures to draw from (default all of TEXTURES). */
  readonly textures?: readonly TextureName[];
}

/** A rendered image: (3, size, size) values in [0, 1], channel-major. */
export interface RenderedImage {
  readonly data: Float32Array;
  readonly channels: 3;
  readonly height: number;
  readonly width: number;
}

const COLOR_NAMES: readonly [number, string][] = [
  [15, 'red'],
  [45, 'orange'],
  [70, 'yellow'],
  [160, 'green'],
  [200, 'cyan'],
  [260, 'blue'],
  [300, 'purple'],
  [340, 'pink'],
  [360, 'red'],
];

function hsv(h: number, s: number, v: number): RGB {
  const c = v * s;
  const hp = (h % 360) / 60;
  const x = c * (1 - Math.abs((hp % 2) - 1));
  const [r, g, b] = hp < 1 ? [c, x, 0] : hp < 2 ? [x, c, 0] : hp < 3 ? [0, c, x] : hp < 4 ? [0, x, c] : hp < 5 ? [x, 0, c] : [c, 0, x];
  const m = v - c;
  return [r + m, g + m, b + m];
}

function colorName(hue: number): string {
  return COLOR_NAMES.find(([limit]) => hue < limit)![1];
}

/** Whether (u, v) lies in the shape; du, dv are offsets from the centre in units of the radius. */
function inside(shape: ShapeName, du: number, dv: number): boolean {
  const ax = Math.abs(du);
  const ay = Math.abs(dv);
  switch (shape) {
    case 'circle':
      return du * du + dv * dv <= 1;
    case 'ring': {
      const d2 = du * du + dv * dv;
      return d2 <= 1 && d2 >= 0.3;
    }
    case 'square':
      return ax <= 0.8 && ay <= 0.8;
    case 'diamond':
      return ax + ay <= 1.1;
    case 'triangle':
      // Apex up: y from -0.85 (apex) to 0.85 (base), half-width growing linearly to 1.
      return dv >= -0.85 && dv <= 0.85 && ax <= (dv + 0.85) / 1.7;
    case 'cross':
      return (ax <= 0.3 && ay <= 1) || (ay <= 0.3 && ax <= 1);
  }
}

function textureMix(s: Scene, u: number, v: number): number {
  switch (s.texture) {
    case 'striped': {
      const t = (u * Math.cos(s.angle) + v * Math.sin(s.angle)) * s.frequency;
      return t - Math.floor(t) < 0.5 ? 0 : 1;
    }
    case 'checkered':
      return (Math.floor(u * s.frequency) + Math.floor(v * s.frequency)) % 2 === 0 ? 0 : 1;
    case 'gradient':
      return 0.5 + 0.5 * Math.sin(2 * Math.PI * (u * Math.cos(s.angle) + v * Math.sin(s.angle)) * 0.5);
  }
}

export class SyntheticShapes {
  readonly seed: number;
  readonly radiusRange: readonly [number, number];
  readonly textures: readonly TextureName[];
  readonly numClasses = SHAPES.length;
  readonly classNames: readonly ShapeName[] = SHAPES;

  constructor(opts: SyntheticShapesOptions = {}) {
    this.seed = checkInt('SyntheticShapes', 'opts.seed', opts.seed ?? 0, 0);
    const r = opts.radiusRange ?? [0.14, 0.3];
    if (!Array.isArray(r) || r.length !== 2 || !(r[0] > 0 && r[0] <= r[1] && r[1] < 0.5)) {
      throw new Error(`SyntheticShapes: expected opts.radiusRange [min, max] with 0 < min <= max < 0.5; got ${JSON.stringify(opts.radiusRange)}`);
    }
    this.radiusRange = [r[0], r[1]];
    const t = opts.textures ?? TEXTURES;
    if (!Array.isArray(t) || t.length === 0 || !t.every((x) => (TEXTURES as readonly string[]).includes(x))) {
      throw new Error(`SyntheticShapes: expected opts.textures to be a non-empty list of ${TEXTURES.map((x) => `'${x}'`).join(', ')}; got ${JSON.stringify(opts.textures)}`);
    }
    this.textures = [...t];
  }

  /** The scene of sample `index` (any integer >= 0); the same for the same (seed, index). */
  scene(index: number): Scene {
    checkInt('SyntheticShapes.scene', 'index', index, 0);
    // One generator per sample, seeded by (seed, index) through a multiplicative hash, so access order is irrelevant.
    const g = new Generator((Math.imul(this.seed + 1, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0);
    const label = g.nextInt(0, SHAPES.length);
    const [rmin, rmax] = this.radiusRange;
    const radius = rmin + (rmax - rmin) * g.nextDouble();
    const cx = radius + (1 - 2 * radius) * g.nextDouble();
    const cy = radius + (1 - 2 * radius) * g.nextDouble();
    const hue = 360 * g.nextDouble();
    const color = hsv(hue, 0.65 + 0.35 * g.nextDouble(), 0.75 + 0.25 * g.nextDouble());
    const texture = this.textures[g.nextInt(0, this.textures.length)];
    const bgHue = 360 * g.nextDouble();
    // A darker, less saturated background pair keeps the shape visible at every resolution.
    const bg1 = hsv(bgHue, 0.3 * g.nextDouble(), 0.15 + 0.25 * g.nextDouble());
    const bg2 = hsv((bgHue + 40 + 80 * g.nextDouble()) % 360, 0.3 * g.nextDouble(), 0.2 + 0.3 * g.nextDouble());
    const frequency = 3 + 5 * g.nextDouble();
    const angle = Math.PI * g.nextDouble();
    const shape = SHAPES[label];
    const size = radius < rmin + (rmax - rmin) / 3 ? 'small' : radius > rmax - (rmax - rmin) / 3 ? 'large' : 'medium';
    const vert = cy < 0.4 ? 'top' : cy > 0.6 ? 'bottom' : 'middle';
    const horiz = cx < 0.4 ? 'left' : cx > 0.6 ? 'right' : 'center';
    const where = vert === 'middle' && horiz === 'center' ? 'in the center' : vert === 'middle' ? `on the ${horiz}` : horiz === 'center' ? `at the ${vert}` : `in the ${vert} ${horiz}`;
    const cname = colorName(hue);
    const caption = `a ${size} ${cname} ${shape} ${where} on a ${texture} background`;
    return { label, shape, cx, cy, radius, color, colorName: cname, texture, background: [bg1, bg2], frequency, angle, caption };
  }

  /** Rasterise a scene at size x size pixels (2 x 2 supersampling), values in [0, 1]. */
  render(scene: Scene, size: number): RenderedImage {
    checkInt('SyntheticShapes.render', 'size', size);
    const data = new Float32Array(3 * size * size);
    const plane = size * size;
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        let r = 0;
        let gr = 0;
        let b = 0;
        for (let sy = 0; sy < 2; sy++) {
          for (let sx = 0; sx < 2; sx++) {
            const u = (j + (sx + 0.5) / 2) / size;
            const v = (i + (sy + 0.5) / 2) / size;
            let c: readonly number[];
            if (inside(scene.shape, (u - scene.cx) / scene.radius, (v - scene.cy) / scene.radius)) c = scene.color;
            else {
              const t = textureMix(scene, u, v);
              const [p, q] = scene.background;
              c = [p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]), p[2] + t * (q[2] - p[2])];
            }
            r += c[0];
            gr += c[1];
            b += c[2];
          }
        }
        const o = i * size + j;
        data[o] = r / 4;
        data[plane + o] = gr / 4;
        data[2 * plane + o] = b / 4;
      }
    }
    return { data, channels: 3, height: size, width: size };
  }

  /** Sample `index` rendered at `size`: image, label and caption. */
  sample(index: number, size: number): { image: RenderedImage; label: number; caption: string; scene: Scene } {
    const scene = this.scene(index);
    return { image: this.render(scene, size), label: scene.label, caption: scene.caption, scene };
  }
}

/** Stack rendered images (all the same size) into a (B, 3, H, W) float32 tensor. */
export function stackImages(images: readonly RenderedImage[]): Tensor {
  if (images.length === 0) throw new Error('stackImages: expected at least one image');
  const { height: h, width: w } = images[0];
  const out = new Float32Array(images.length * 3 * h * w);
  images.forEach((im, i) => {
    if (im.height !== h || im.width !== w) throw new Error(`stackImages: expected every image to be ${h} x ${w}; image ${i} is ${im.height} x ${im.width}`);
    out.set(im.data, i * 3 * h * w);
  });
  return tensor(out, { shape: [images.length, 3, h, w] });
}
