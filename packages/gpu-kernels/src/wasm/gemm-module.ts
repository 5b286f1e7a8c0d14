/**
 * The float32 GEMM module: a packed, blocked matrix multiply in the style of Goto & van de Geijn ("Anatomy of
 * high-performance matrix multiplication", TOMS 2008) and BLIS (Van Zee & van de Geijn, TOMS 2015).
 *
 * C (padded to MR x NR tiles, row-major, leading dimension ldc) = op(A) @ op(B) (the first k block stores, the
 * rest accumulate, so C needs no zero fill), where op(A)[i, p] sits at
 * a + (i * rsA + p * csA) * 4 and op(B)[p, j] at b + (p * rsB + j * csB) * 4, so one driver serves every
 * transA/transB combination. The driver packs a KC x NC block of B into NR-column panels and an MC x KC block of A
 * into MR-row panels (zero-padded at the edges and to a multiple of 4 in k), then runs the micro-kernel over every
 * MR x NR tile: 8 f32x4 accumulators (4 rows x 2 vectors) that stay in registers for the whole k loop. Larger tiles
 * spill on x64's 16 vector registers; without packing the B loads stride through memory and n = 1024 runs at half
 * the speed.
 *
 * Every pointer argument is a byte address in the (possibly shared) imported memory; several threads may run
 * `gemm` at once on disjoint tile ranges of C with their own packing buffers.
 */
import { FunctionBuilder, add, and, call, eq, f32, f32Load, f32Store, f32x4Add, f32x4Madd, f32x4Mul, i32, ifElse, ltS, ltU, mul, sub, v128Load, v128Load32Splat, v128Store, v128Zero, type Code } from './code.js';
import { ModuleBuilder } from './module-builder.js';
import { blockVoid, op } from './opcodes.js';

/** Micro-tile rows and columns. */
export const MR = 4;
export const NR = 8;
/**
 * Cache blocking: a KC x NR panel of B (8 KiB) stays in L1, an MC x KC block of A (128 KiB) in L2, and the packed
 * KC x NC block of B (512 KiB) in L2/L3. NC = 1024 (1 MiB) ran GEMM n = 1024 at 45 GFLOP/s here, NC = 512 at 60.
 */
export const KC = 256;
export const MC = 128;
export const NC = 512;
const UNROLL = Number(globalThis.process?.env?.UNROLL ?? 1);

export interface GemmModuleOptions {
  /** Use f32x4.relaxed_madd (an FMA where the hardware has one) instead of mul + add. */
  readonly relaxedSimd: boolean;
  /** Import a shared memory (for worker threads) rather than an unshared one. */
  readonly sharedMemory: boolean;
  readonly maximumPages: number;
}

/** Shuffle two f32x4 values into (x[l0], x[l1], y[l2 - 4], y[l3 - 4]) style lanes: f32 lane L of x is L, of y is 4 + L. */
const shuffle = (x: Code, y: Code, l: readonly [number, number, number, number]): Code => [
  x,
  y,
  op.i8x16Shuffle,
  l.flatMap((lane) => [4 * lane, 4 * lane + 1, 4 * lane + 2, 4 * lane + 3]),
];

/**
 * Code that stores the 4x4 transpose of the vectors in locals v0..v3 (row r = v_r) as four vectors, row q =
 * (v0[q], v1[q], v2[q], v3[q]) at dst + q * rowBytes + offset: two rounds of interleaving shuffles, through
 * t0..t3. Packing row-major A and transposed B needs exactly this, and it replaces 16 scalar loads and stores.
 */
function storeTransposed4(f: FunctionBuilder, dst: Code, rowBytes: number, offset: number): Code {
  const v = (i: number) => f.get(`v${i}`);
  const t = (i: number) => f.get(`t${i}`);
  return [
    f.set('t0', shuffle(v(0), v(1), [0, 4, 1, 5])), // v0[0] v1[0] v0[1] v1[1]
    f.set('t1', shuffle(v(0), v(1), [2, 6, 3, 7])), // v0[2] v1[2] v0[3] v1[3]
    f.set('t2', shuffle(v(2), v(3), [0, 4, 1, 5])),
    f.set('t3', shuffle(v(2), v(3), [2, 6, 3, 7])),
    v128Store(dst, shuffle(t(0), t(2), [0, 1, 4, 5]), offset),
    v128Store(dst, shuffle(t(0), t(2), [2, 3, 6, 7]), offset + rowBytes),
    v128Store(dst, shuffle(t(1), t(3), [0, 1, 4, 5]), offset + 2 * rowBytes),
    v128Store(dst, shuffle(t(1), t(3), [2, 3, 6, 7]), offset + 3 * rowBytes),
  ];
}

/** Round up to a multiple of 4 (k padding of the packed panels). */
const roundUp4 = (x: Code): Code => and(add(x, i32(3)), i32(-4));
/** min(a, b) for i32 values (select keeps the first operand when the condition holds). */
const minS = (a: Code, b: Code): Code => [a, b, ltS(a, b), op.select];

/**
 * Write a micro-kernel's MR x NR accumulators to its C tile at cp (rows ldc4 bytes apart): the first k block
 * (`accumulate` = 0) stores the tile, so C needs no zero fill; later ones add to it. Shared by both micro-kernels.
 */
function tileUpdate(f: FunctionBuilder, acc: (r: number, h: number) => string): Code {
  const addTile: Code[] = [];
  const storeTile: Code[] = [];
  for (let r = 0; r < MR; r++) {
    const row = r === 0 ? f.get('cp') : add(f.get('cp'), mul(f.get('ldc4'), i32(r)));
    addTile.push(v128Store(row, f32x4Add(v128Load(row), f.get(acc(r, 0)))));
    addTile.push(v128Store(row, f32x4Add(v128Load(row, 16), f.get(acc(r, 1))), 16));
    storeTile.push(v128Store(row, f.get(acc(r, 0))));
    storeTile.push(v128Store(row, f.get(acc(r, 1)), 16));
  }
  return [f.get('accumulate'), op.if, blockVoid, addTile, op.else, storeTile, op.end];
}

function microKernel(relaxed: boolean): { fn: FunctionBuilder; body: Code } {
  const f = new FunctionBuilder({ ap: 'i32', bp: 'i32', cp: 'i32', kcp: 'i32', ldc4: 'i32', accumulate: 'i32' });
  const acc = (r: number, h: number) => `c${r}${h}`;
  for (let r = 0; r < MR; r++) f.locals('v128', acc(r, 0), acc(r, 1));
  f.locals('v128', 'b0', 'b1', 'a');
  f.locals('i32', 'apEnd');
  const fma = (a: Code, b: Code, c: Code): Code => (relaxed ? f32x4Madd(a, b, c) : f32x4Add(f32x4Mul(a, b), c));
  // Unrolling in k does not pay: TurboFan hoists every load of the unrolled body to the top and spills.
  const step: Code[] = [];
  for (let u = 0; u < UNROLL; u++) {
    step.push(f.set('b0', v128Load(f.get('bp'), u * NR * 4)));
    step.push(f.set('b1', v128Load(f.get('bp'), u * NR * 4 + 16)));
    for (let r = 0; r < MR; r++) {
      step.push(f.set('a', v128Load32Splat(f.get('ap'), u * MR * 4 + r * 4)));
      step.push(f.set(acc(r, 0), fma(f.get('a'), f.get('b0'), f.get(acc(r, 0)))));
      step.push(f.set(acc(r, 1), fma(f.get('a'), f.get('b1'), f.get(acc(r, 1)))));
    }
  }
  step.push(f.inc('ap', i32(UNROLL * MR * 4)), f.inc('bp', i32(UNROLL * NR * 4)));
  const update = tileUpdate(f, acc);
  // A do-while over the A panel pointer (kcp >= 4 always): the loop costs two adds, a compare and a branch.
  const loop: Code = [
    f.set('apEnd', add(f.get('ap'), mul(f.get('kcp'), i32(MR * 4)))),
    op.loop, blockVoid,
    step,
    ltU(f.get('ap'), f.get('apEnd')), op.brIf, 0,
    op.end,
  ];
  return { fn: f, body: [loop, update] };
}

/**
 * The same micro-kernel reading A in place: a row-major A (unit column stride) needs no packing, because its MR
 * rows are MR sequential streams the prefetcher follows as well as it follows one packed panel. Rows are `lda4`
 * bytes apart; the loop runs exactly `kc` steps (A has no zero padding in k; the packed B panels do).
 */
function microKernelRowMajorA(relaxed: boolean): { fn: FunctionBuilder; body: Code } {
  const f = new FunctionBuilder({ ap: 'i32', lda4: 'i32', bp: 'i32', cp: 'i32', kc: 'i32', ldc4: 'i32', accumulate: 'i32' });
  const acc = (r: number, h: number) => `c${r}${h}`;
  for (let r = 0; r < MR; r++) f.locals('v128', acc(r, 0), acc(r, 1));
  f.locals('v128', 'b0', 'b1', 'a');
  f.locals('i32', 'apEnd', 'p1', 'p2', 'p3');
  const fma = (a: Code, b: Code, c: Code): Code => (relaxed ? f32x4Madd(a, b, c) : f32x4Add(f32x4Mul(a, b), c));
  const rowPtr = ['ap', 'p1', 'p2', 'p3'];
  const step: Code[] = [f.set('b0', v128Load(f.get('bp'))), f.set('b1', v128Load(f.get('bp'), 16))];
  for (let r = 0; r < MR; r++) {
    step.push(f.set('a', v128Load32Splat(f.get(rowPtr[r]))));
    step.push(f.set(acc(r, 0), fma(f.get('a'), f.get('b0'), f.get(acc(r, 0)))));
    step.push(f.set(acc(r, 1), fma(f.get('a'), f.get('b1'), f.get(acc(r, 1)))));
  }
  for (const ptr of rowPtr) step.push(f.inc(ptr, i32(4)));
  step.push(f.inc('bp', i32(NR * 4)));
  const body: Code = [
    f.set('p1', add(f.get('ap'), f.get('lda4'))),
    f.set('p2', add(f.get('p1'), f.get('lda4'))),
    f.set('p3', add(f.get('p2'), f.get('lda4'))),
    f.set('apEnd', add(f.get('ap'), mul(f.get('kc'), i32(4)))),
    op.loop, blockVoid,
    step,
    ltU(f.get('ap'), f.get('apEnd')), op.brIf, 0,
    op.end,
    tileUpdate(f, acc),
  ];
  return { fn: f, body };
}

/**
 * Pack op(A)[i0 : i0 + mc, p0 : p0 + kc] into MR-row panels: dst[panel][p][r], zero beyond mc rows and kc.
 * Panels are `kcp * MR` floats apart.
 */
function packA(): { fn: FunctionBuilder; body: Code } {
  const f = new FunctionBuilder({ src: 'i32', rs: 'i32', cs: 'i32', i0: 'i32', mc: 'i32', p0: 'i32', kc: 'i32', kcp: 'i32', dst: 'i32' });
  f.locals('i32', 'ir', 'p', 's', 'd', 't', 'rs4', 'cs4', 'full', 'kc4');
  f.locals('v128', 'v0', 'v1', 'v2', 'v3', 't0', 't1', 't2', 't3');
  const g = (n: string) => f.get(n);
  // One scalar k step of a panel: 4 rows, rs4 bytes apart, from s to d.
  const scalarStep: Code = [
    f.set('t', g('s')),
    [0, 1, 2, 3].map((r) => [f32Store(g('d'), f32Load(g('t')), r * 4), f.inc('t', g('rs4'))]),
    f.inc('s', g('cs4')),
    f.inc('d', i32(16)),
  ];
  const fullPanel: Code = [
    f.set('s', add(g('src'), mul(add(mul(add(g('i0'), g('ir')), g('rs')), mul(g('p0'), g('cs'))), i32(4)))),
    f.set('d', add(g('dst'), mul(mul(g('ir'), g('kcp')), i32(4)))),
    // Transposed A (rs = 1): the 4 rows of a panel are adjacent in memory, one vector load per k.
    eq(g('rs'), i32(1)),
    op.if, 0x40,
    f.forRange('p', i32(0), g('kc'), i32(1), [
      v128Store(g('d'), v128Load(g('s'))),
      f.inc('s', g('cs4')),
      f.inc('d', i32(16)),
    ]),
    op.else,
    // Row-major A (cs = 1): four k steps at a time as one vector per row, transposed in registers.
    eq(g('cs'), i32(1)),
    op.if, 0x40,
    f.forRange('p', i32(0), g('kc4'), i32(4), [
      [0, 1, 2, 3].map((r) => f.set(`v${r}`, v128Load(r === 0 ? g('s') : add(g('s'), mul(g('rs4'), i32(r)))))),
      storeTransposed4(f, g('d'), 16, 0),
      f.inc('s', i32(16)),
      f.inc('d', i32(64)),
    ]),
    f.forRange('p', g('kc4'), g('kc'), i32(1), scalarStep),
    op.else,
    f.forRange('p', i32(0), g('kc'), i32(1), scalarStep),
    op.end,
    op.end,
    f.forRange('p', g('kc'), g('kcp'), i32(1), [v128Store(g('d'), v128Zero), f.inc('d', i32(16))]),
  ];
  const edgePanel: Code = [
    f.set('ir', g('full')),
    f.set('d', add(g('dst'), mul(mul(g('ir'), g('kcp')), i32(4)))),
    f.forRange('p', i32(0), g('kcp'), i32(1), [
      [0, 1, 2, 3].map((r) =>
        f32Store(
          g('d'),
          ifElse(
            'f32',
            and(ltS(add(g('ir'), i32(r)), g('mc')), ltS(g('p'), g('kc'))),
            f32Load(add(g('src'), mul(add(mul(add(add(g('i0'), g('ir')), i32(r)), g('rs')), mul(add(g('p0'), g('p')), g('cs'))), i32(4)))),
            f32(0),
          ),
          r * 4,
        ),
      ),
      f.inc('d', i32(16)),
    ]),
  ];
  return {
    fn: f,
    body: [
      f.set('rs4', mul(g('rs'), i32(4))),
      f.set('cs4', mul(g('cs'), i32(4))),
      f.set('kc4', and(g('kc'), i32(-4))),
      f.set('full', and(g('mc'), i32(-MR))),
      f.forRange('ir', i32(0), g('full'), i32(MR), fullPanel),
      ltS(g('full'), g('mc')),
      op.if, 0x40, edgePanel, op.end,
    ],
  };
}

/**
 * Pack op(B)[p0 : p0 + kc, j0 : j0 + nc] into NR-column panels: dst[panel][p][c], zero beyond nc columns and kc.
 */
function packB(): { fn: FunctionBuilder; body: Code } {
  const f = new FunctionBuilder({ src: 'i32', rs: 'i32', cs: 'i32', j0: 'i32', nc: 'i32', p0: 'i32', kc: 'i32', kcp: 'i32', dst: 'i32' });
  f.locals('i32', 'jr', 'p', 's', 'd', 't', 'rs4', 'cs4', 'full', 'kc4');
  f.locals('v128', 'v0', 'v1', 'v2', 'v3', 't0', 't1', 't2', 't3');
  const g = (n: string) => f.get(n);
  const cols = [0, 1, 2, 3, 4, 5, 6, 7];
  // One scalar k step of a panel: 8 columns, cs4 bytes apart, from s to d.
  const scalarStep: Code = [
    f.set('t', g('s')),
    cols.map((c) => [f32Store(g('d'), f32Load(g('t')), c * 4), f.inc('t', g('cs4'))]),
    f.inc('s', g('rs4')),
    f.inc('d', i32(32)),
  ];
  // Transposed B (rs = 1, each column contiguous in k): four k steps of 8 columns as two 4x4 transposes.
  const columnAt = (c: number): Code => (c === 0 ? g('s') : add(g('s'), mul(g('cs4'), i32(c))));
  const transposedSteps: Code = [
    f.forRange('p', i32(0), g('kc4'), i32(4), [
      [0, 1, 2, 3].map((c) => f.set(`v${c}`, v128Load(columnAt(c)))),
      storeTransposed4(f, g('d'), 32, 0),
      [0, 1, 2, 3].map((c) => f.set(`v${c}`, v128Load(columnAt(c + 4)))),
      storeTransposed4(f, g('d'), 32, 16),
      f.inc('s', i32(16)),
      f.inc('d', i32(128)),
    ]),
    f.forRange('p', g('kc4'), g('kc'), i32(1), scalarStep),
  ];
  const fullPanel: Code = [
    f.set('s', add(g('src'), mul(add(mul(g('p0'), g('rs')), mul(add(g('j0'), g('jr')), g('cs'))), i32(4)))),
    f.set('d', add(g('dst'), mul(mul(g('jr'), g('kcp')), i32(4)))),
    // Untransposed B (cs = 1): a panel row is 8 adjacent floats, two vector loads per k.
    eq(g('cs'), i32(1)),
    op.if, 0x40,
    f.forRange('p', i32(0), g('kc'), i32(1), [
      v128Store(g('d'), v128Load(g('s'))),
      v128Store(g('d'), v128Load(g('s'), 16), 16),
      f.inc('s', g('rs4')),
      f.inc('d', i32(32)),
    ]),
    op.else,
    eq(g('rs'), i32(1)),
    op.if, 0x40,
    transposedSteps,
    op.else,
    f.forRange('p', i32(0), g('kc'), i32(1), scalarStep),
    op.end,
    op.end,
    f.forRange('p', g('kc'), g('kcp'), i32(1), [
      v128Store(g('d'), v128Zero),
      v128Store(g('d'), v128Zero, 16),
      f.inc('d', i32(32)),
    ]),
  ];
  const edgePanel: Code = [
    f.set('jr', g('full')),
    f.set('d', add(g('dst'), mul(mul(g('jr'), g('kcp')), i32(4)))),
    f.forRange('p', i32(0), g('kcp'), i32(1), [
      cols.map((c) =>
        f32Store(
          g('d'),
          ifElse(
            'f32',
            and(ltS(add(g('jr'), i32(c)), g('nc')), ltS(g('p'), g('kc'))),
            f32Load(add(g('src'), mul(add(mul(add(g('p0'), g('p')), g('rs')), mul(add(add(g('j0'), g('jr')), i32(c)), g('cs'))), i32(4)))),
            f32(0),
          ),
          c * 4,
        ),
      ),
      f.inc('d', i32(32)),
    ]),
  ];
  return {
    fn: f,
    body: [
      f.set('rs4', mul(g('rs'), i32(4))),
      f.set('cs4', mul(g('cs'), i32(4))),
      f.set('kc4', and(g('kc'), i32(-4))),
      f.set('full', and(g('nc'), i32(-NR))),
      f.forRange('jr', i32(0), g('full'), i32(NR), fullPanel),
      ltS(g('full'), g('nc')),
      op.if, 0x40, edgePanel, op.end,
    ],
  };
}

/** Parameter order of the exported `gemm`; the thread pool passes them in this order. */
export const GEMM_PARAMS = [
  'a', 'b', 'c', 'batch0', 'batch1', 'strideA', 'strideB', 'strideC',
  'k', 'rsA', 'csA', 'rsB', 'csB', 'ldc', 'i0', 'i1', 'j0', 'j1', 'packA', 'packB',
] as const;

function driver(kernelIndex: number, rowMajorKernelIndex: number, packAIndex: number, packBIndex: number): { fn: FunctionBuilder; body: Code } {
  const f = new FunctionBuilder(Object.fromEntries(GEMM_PARAMS.map((p) => [p, 'i32' as const])));
  f.locals('i32', 'bi', 'jc', 'pc', 'ic', 'jr', 'ir', 'nc', 'kc', 'kcp', 'mc', 'aB', 'bB', 'cB', 'ldc4', 'full', 'lda4');
  const g = (n: string) => f.get(n);
  const cTile = (ir: Code): Code => add(g('cB'), mul(add(mul(add(g('ic'), ir), g('ldc')), add(g('jc'), g('jr'))), i32(4)));
  const bPanel = add(g('packB'), mul(mul(g('jr'), g('kcp')), i32(4)));
  const accumulate: Code = [g('pc'), i32(0), op.i32GtS];
  const tiles = f.forRange('jr', i32(0), g('nc'), i32(NR),
    f.forRange('ir', i32(0), g('mc'), i32(MR),
      call(kernelIndex, add(g('packA'), mul(mul(g('ir'), g('kcp')), i32(4))), bPanel, cTile(g('ir')), g('kcp'), g('ldc4'), accumulate),
    ),
  );
  // Row-major A: full MR-row panels straight from A; only the last, partial panel (if any) is packed, at packA.
  const rowMajorTiles = f.forRange('jr', i32(0), g('nc'), i32(NR), [
    f.forRange('ir', i32(0), g('full'), i32(MR),
      call(rowMajorKernelIndex,
        add(g('aB'), mul(add(mul(add(g('ic'), g('ir')), g('rsA')), g('pc')), i32(4))),
        g('lda4'), bPanel, cTile(g('ir')), g('kc'), g('ldc4'), accumulate,
      ),
    ),
    [ltS(g('full'), g('mc')), op.if, blockVoid,
      call(kernelIndex, g('packA'), bPanel, cTile(g('full')), g('kcp'), g('ldc4'), accumulate),
    op.end],
  ]);
  const block: Code = [
    [eq(g('csA'), i32(1)), op.if, blockVoid,
      f.set('full', and(g('mc'), i32(-MR))),
      [ltS(g('full'), g('mc')), op.if, blockVoid,
        call(packAIndex, g('aB'), g('rsA'), g('csA'), add(g('ic'), g('full')), sub(g('mc'), g('full')), g('pc'), g('kc'), g('kcp'), g('packA')),
      op.end],
      rowMajorTiles,
    op.else,
      call(packAIndex, g('aB'), g('rsA'), g('csA'), g('ic'), g('mc'), g('pc'), g('kc'), g('kcp'), g('packA')),
      tiles,
    op.end],
  ];
  const body: Code = [
    f.set('ldc4', mul(g('ldc'), i32(4))),
    f.set('lda4', mul(g('rsA'), i32(4))),
    f.forRange('bi', g('batch0'), g('batch1'), i32(1), [
      f.set('aB', add(g('a'), mul(g('bi'), g('strideA')))),
      f.set('bB', add(g('b'), mul(g('bi'), g('strideB')))),
      f.set('cB', add(g('c'), mul(g('bi'), g('strideC')))),
      f.forRange('jc', g('j0'), g('j1'), i32(NC), [
        f.set('nc', minS(sub(g('j1'), g('jc')), i32(NC))),
        f.forRange('pc', i32(0), g('k'), i32(KC), [
          f.set('kc', minS(sub(g('k'), g('pc')), i32(KC))),
          f.set('kcp', roundUp4(g('kc'))),
          call(packBIndex, g('bB'), g('rsB'), g('csB'), g('jc'), g('nc'), g('pc'), g('kc'), g('kcp'), g('packB')),
          f.forRange('ic', g('i0'), g('i1'), i32(MC), [
            f.set('mc', minS(sub(g('i1'), g('ic')), i32(MC))),
            block,
          ]),
        ]),
      ]),
    ]),
  ];
  return { fn: f, body };
}

/** Bytes of the GEMM module, importing its memory as env.memory. Exports `gemm`. */
export function buildGemmModule(options: GemmModuleOptions): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({
    module: 'env',
    name: 'memory',
    initialPages: 1,
    maximumPages: options.maximumPages,
    shared: options.sharedMemory,
  });
  const k = microKernel(options.relaxedSimd);
  const kernelIndex = m.addFunction('kernel', k.fn, k.body);
  const kr = microKernelRowMajorA(options.relaxedSimd);
  const rowMajorKernelIndex = m.addFunction('kernelRowMajorA', kr.fn, kr.body);
  const pa = packA();
  const packAIndex = m.addFunction('packA', pa.fn, pa.body);
  const pb = packB();
  const packBIndex = m.addFunction('packB', pb.fn, pb.body);
  const d = driver(kernelIndex, rowMajorKernelIndex, packAIndex, packBIndex);
  m.addFunction('gemm', d.fn, d.body);
  return m.encode();
}

/** Bytes of the packing buffers one thread needs: an MC x KC block of A and a KC x NC block of B. */
export const PACK_A_BYTES = MC * KC * 4;
export const PACK_B_BYTES = KC * NC * 4;
