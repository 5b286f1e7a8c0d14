/**
 * The float32 GEMM module: a packed, blocked matrix multiply in the style of Goto & van de Geijn ("Anatomy of
 * high-performance matrix multiplication", TOMS 2008) and BLIS (Van Zee & van de Geijn, TOMS 2015).
 *
 * C (row-major, leading dimension ldc) = op(A) @ op(B) (the first k block stores, the rest accumulate, so C needs
 * no zero fill), where op(A)[i, p] sits at a + (i * rsA + p * csA) * 4 and op(B)[p, j] at
 * b + (p * rsB + j * csB) * 4, so one driver serves every transA/transB combination. The driver packs a KC x NC
 * block of B into NR-column panels and an MC x KC block of A into MR-row panels (zero-padded at the edges), then
 * runs the micro-kernel over every MR x NR tile: MR * NR / 4 f32x4 accumulators that stay in registers for the
 * whole k loop. A tile that sticks out of C (the last rows or columns) is computed into a small buffer and only
 * its inside is copied to C, so C is never padded.
 *
 * Every pointer argument is a byte address in the (possibly shared) imported memory; several threads may run
 * `gemm` at once on disjoint tile ranges of C with their own packing buffers.
 */
import { FunctionBuilder, add, and, call, eq, f32, f32Load, f32Store, f32x4Add, f32x4Madd, f32x4Mul, i32, ifElse, ltS, ltU, mul, sub, v128Load, v128Load32Splat, v128Store, when, type Code } from './code.js';
import { ModuleBuilder } from './module-builder.js';
import { blockVoid, op } from './opcodes.js';

/**
 * The micro-tile, chosen by measurement on x64 V8, which has 15 allocatable vector registers and hoists every load
 * of a k step to the top of the step (so each load needs a register of its own while the step runs):
 *
 * - 5 x 8 with A's rows 0-3 broadcast from one vector load by shuffles: 10 accumulators + 2 B + 3 = 15 registers.
 *   Ten independent FMA chains cover the FMA latency (4 cycles on 2 pipes needs 8 in flight, and 8 leave no slack);
 *   it ran at 60-62 GFLOP/s a thread here, the x64 ceiling for f32x4 FMA being about 64.
 * - 4 x 8 with one splat load per row (8 accumulators): 56-58. It reads a row-major A in place (one pointer per
 *   row), which the 5 x 8 cannot (its rows must sit side by side), and it is the tile without FMA, where the
 *   separate product needs a register the 5 x 8 does not have.
 * - 6 x 8 and 5 x 8 with splat loads spill (17+ live vectors) and run at half speed.
 */
export interface GemmTile {
  /** Rows of C per micro-tile. */
  readonly mr: number;
  /** f32x4 vectors per tile row: NR = 4 * nv columns. */
  readonly nv: number;
  /** Broadcast A's rows 0-3 from one v128 load by shuffles (the rest by splat loads); needs packed A. */
  readonly shuffleA: boolean;
  /** Read a row-major A in place (one pointer per row) instead of packing it. */
  readonly inPlaceA: boolean;
}

export const TILE_FMA: GemmTile = { mr: 5, nv: 2, shuffleA: true, inPlaceA: false };
export const TILE_MUL_ADD: GemmTile = { mr: 4, nv: 2, shuffleA: false, inPlaceA: true };

/** The tile a module with (relaxed = true) or without FMA uses. */
export const gemmTile = (relaxed: boolean): GemmTile => (relaxed ? TILE_FMA : TILE_MUL_ADD);

/**
 * Cache blocking: a KC x NR panel of B (8 KiB) stays in L1, an MC x KC block of A (~128 KiB) in L2, and the packed
 * KC x NC block of B (512 KiB) in L2/L3. NC = 1024 (1 MiB) ran GEMM n = 1024 at 45 GFLOP/s here, NC = 512 at 60.
 * MC and NC are whole multiples of the tile, so only the last block of a thread's range has edge tiles.
 */
export const KC = 256;
export const blocking = (t: GemmTile) => ({ kc: KC, mc: Math.floor(128 / t.mr) * t.mr, nc: Math.floor(512 / (4 * t.nv)) * 4 * t.nv });

/** Bytes of one thread's buffers: the packed A block, the packed B block, then the edge tile. */
export function packLayout(t: GemmTile): { aBytes: number; bBytes: number; edgeBytes: number; bytes: number } {
  const { mc, nc } = blocking(t);
  const aBytes = mc * KC * 4;
  const bBytes = nc * KC * 4;
  const edgeBytes = t.mr * 4 * t.nv * 4;
  return { aBytes, bBytes, edgeBytes, bytes: Math.ceil((aBytes + bBytes + edgeBytes) / 64) * 64 };
}

export interface GemmModuleOptions {
  /** Use f32x4.relaxed_madd (an FMA where the hardware has one) instead of mul + add. */
  readonly relaxedSimd: boolean;
  /** Import a shared memory (for worker threads) rather than an unshared one. */
  readonly sharedMemory: boolean;
  readonly maximumPages: number;
  /** The micro-tile; default `gemmTile(relaxedSimd)`. */
  readonly tile?: GemmTile;
}

/** Shuffle two f32x4 values into (x[l0], x[l1], y[l2 - 4], y[l3 - 4]) style lanes: f32 lane L of x is L, of y is 4 + L. */
const shuffle = (x: Code, y: Code, l: readonly [number, number, number, number]): Code => [
  x,
  y,
  op.i8x16Shuffle,
  l.flatMap((lane) => [4 * lane, 4 * lane + 1, 4 * lane + 2, 4 * lane + 3]),
];
const extractLane = (v: Code, lane: number): Code => [v, op.f32x4ExtractLane, lane];

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

/** min(a, b) for i32 values (select keeps the first operand when the condition holds). */
const minS = (a: Code, b: Code): Code => [a, b, ltS(a, b), op.select];
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * Write a micro-kernel's accumulators to its C tile at cp (rows ldc4 bytes apart): the first k block
 * (`accumulate` = 0) stores the tile, so C needs no zero fill; later ones add to it. Shared by both micro-kernels.
 */
function tileUpdate(f: FunctionBuilder, t: GemmTile, acc: (r: number, h: number) => string): Code {
  const addTile: Code[] = [];
  const storeTile: Code[] = [];
  for (let r = 0; r < t.mr; r++) {
    const row = r === 0 ? f.get('cp') : add(f.get('cp'), mul(f.get('ldc4'), i32(r)));
    for (let h = 0; h < t.nv; h++) {
      addTile.push(v128Store(row, f32x4Add(v128Load(row, 16 * h), f.get(acc(r, h))), 16 * h));
      storeTile.push(v128Store(row, f.get(acc(r, h)), 16 * h));
    }
  }
  return [f.get('accumulate'), op.if, blockVoid, addTile, op.else, storeTile, op.end];
}

/**
 * One k step of a micro-kernel: load the B row, then per tile row broadcast A's element and multiply-add.
 * `aRow(r)` gives row r's broadcast A value.
 */
function kStep(f: FunctionBuilder, t: GemmTile, relaxed: boolean, aRow: (r: number) => Code): Code {
  const acc = (r: number, h: number) => `c${r}${h}`;
  const fma = (a: Code, b: Code, c: Code): Code => (relaxed ? f32x4Madd(a, b, c) : f32x4Add(f32x4Mul(a, b), c));
  const step: Code[] = range(t.nv).map((h) => f.set(`b${h}`, v128Load(f.get('bp'), 16 * h)));
  for (let r = 0; r < t.mr; r++) {
    step.push(f.set('a', aRow(r)));
    for (let h = 0; h < t.nv; h++) step.push(f.set(acc(r, h), fma(f.get('a'), f.get(`b${h}`), f.get(acc(r, h)))));
  }
  return step;
}

function declareTileLocals(f: FunctionBuilder, t: GemmTile): (r: number, h: number) => string {
  const acc = (r: number, h: number) => `c${r}${h}`;
  for (let r = 0; r < t.mr; r++) f.locals('v128', ...range(t.nv).map((h) => acc(r, h)));
  f.locals('v128', ...range(t.nv).map((h) => `b${h}`), 'a', 'av');
  return acc;
}

/** The micro-kernel over a packed A panel (MR floats per k) and a packed B panel (NR floats per k), kc >= 1 steps. */
function microKernel(t: GemmTile, relaxed: boolean): { fn: FunctionBuilder; body: Code } {
  const f = new FunctionBuilder({ ap: 'i32', bp: 'i32', cp: 'i32', kc: 'i32', ldc4: 'i32', accumulate: 'i32' });
  const acc = declareTileLocals(f, t);
  f.locals('i32', 'apEnd');
  // Rows 0-3 by shuffles of one load: pure shuffles are scheduled next to their use, loads are not (see GemmTile).
  const lane = (r: number): Code => shuffle(f.get('av'), f.get('av'), [r, r, r, r]);
  const aRow = (r: number): Code => (t.shuffleA && r < 4 ? lane(r) : v128Load32Splat(f.get('ap'), r * 4));
  const step: Code = [
    t.shuffleA ? f.set('av', v128Load(f.get('ap'))) : [],
    kStep(f, t, relaxed, aRow),
    f.inc('ap', i32(t.mr * 4)),
    f.inc('bp', i32(t.nv * 16)),
  ];
  // A do-while over the A panel pointer (kc >= 1 always): the loop costs two adds, a compare and a branch.
  const loop: Code = [
    f.set('apEnd', add(f.get('ap'), mul(f.get('kc'), i32(t.mr * 4)))),
    op.loop, blockVoid,
    step,
    ltU(f.get('ap'), f.get('apEnd')), op.brIf, 0,
    op.end,
  ];
  return { fn: f, body: [loop, tileUpdate(f, t, acc)] };
}

/**
 * The same micro-kernel reading a row-major A (unit column stride) in place: its MR rows are MR sequential
 * streams the prefetcher follows as well as it follows one packed panel, so A needs no packing. Rows are `lda4`
 * bytes apart; the loop runs `kc` steps.
 */
function microKernelInPlaceA(t: GemmTile, relaxed: boolean): { fn: FunctionBuilder; body: Code } {
  const f = new FunctionBuilder({ ap: 'i32', lda4: 'i32', bp: 'i32', cp: 'i32', kc: 'i32', ldc4: 'i32', accumulate: 'i32' });
  const acc = declareTileLocals(f, t);
  const rowPtr = ['ap', ...range(t.mr - 1).map((r) => `p${r + 1}`)];
  f.locals('i32', 'apEnd', ...rowPtr.slice(1));
  const step: Code = [
    kStep(f, t, relaxed, (r) => v128Load32Splat(f.get(rowPtr[r]))),
    rowPtr.map((ptr) => f.inc(ptr, i32(4))),
    f.inc('bp', i32(t.nv * 16)),
  ];
  const body: Code = [
    range(t.mr - 1).map((r) => f.set(rowPtr[r + 1], add(f.get(rowPtr[r]), f.get('lda4')))),
    f.set('apEnd', add(f.get('ap'), mul(f.get('kc'), i32(4)))),
    op.loop, blockVoid,
    step,
    ltU(f.get('ap'), f.get('apEnd')), op.brIf, 0,
    op.end,
    tileUpdate(f, t, acc),
  ];
  return { fn: f, body };
}

/**
 * Pack op(A)[i0 : i0 + mc, p0 : p0 + kc] into MR-row panels: dst[panel][p][r], zero beyond mc rows.
 * Panels are `kc * MR` floats apart.
 */
function packA(t: GemmTile): { fn: FunctionBuilder; body: Code } {
  const MR = t.mr;
  const f = new FunctionBuilder({ src: 'i32', rs: 'i32', cs: 'i32', i0: 'i32', mc: 'i32', p0: 'i32', kc: 'i32', dst: 'i32' });
  f.locals('i32', 'ir', 'p', 's', 'd', 'q', 'rs4', 'cs4', 'full', 'kc4');
  f.locals('v128', 'v0', 'v1', 'v2', 'v3', 't0', 't1', 't2', 't3');
  const g = (n: string) => f.get(n);
  const rowAt = (r: number): Code => (r === 0 ? g('s') : add(g('s'), mul(g('rs4'), i32(r))));
  // One scalar k step of a panel: MR rows, rs4 bytes apart, from s to d.
  const scalarStep: Code = [
    f.set('q', g('s')),
    range(MR).map((r) => [f32Store(g('d'), f32Load(g('q')), r * 4), f.inc('q', g('rs4'))]),
    f.inc('s', g('cs4')),
    f.inc('d', i32(MR * 4)),
  ];
  // Transposed A (rs = 1): a panel's MR rows are adjacent floats at each k.
  const adjacentRows: Code = [
    range(MR >> 2).map((v) => v128Store(g('d'), v128Load(g('s'), 16 * v), 16 * v)),
    range(MR & 3).map((r) => f32Store(g('d'), f32Load(g('s'), 4 * ((MR & ~3) + r)), 4 * ((MR & ~3) + r))),
    f.inc('s', g('cs4')),
    f.inc('d', i32(MR * 4)),
  ];
  // Row-major A (cs = 1): four k steps at a time as one vector per row; groups of four rows are transposed in
  // registers, the rest stored lane by lane.
  const fourSteps: Code = [
    range(MR >> 2).map((grp) => [
      range(4).map((r) => f.set(`v${r}`, v128Load(rowAt(4 * grp + r)))),
      storeTransposed4(f, g('d'), MR * 4, 16 * grp),
    ]),
    range(MR & 3).map((i) => {
      const r = (MR & ~3) + i;
      return [f.set('v0', v128Load(rowAt(r))), range(4).map((q) => f32Store(g('d'), extractLane(g('v0'), q), q * MR * 4 + r * 4))];
    }),
    f.inc('s', i32(16)),
    f.inc('d', i32(4 * MR * 4)),
  ];
  const fullPanel: Code = [
    f.set('s', add(g('src'), mul(add(mul(add(g('i0'), g('ir')), g('rs')), mul(g('p0'), g('cs'))), i32(4)))),
    f.set('d', add(g('dst'), mul(mul(g('ir'), g('kc')), i32(4)))),
    eq(g('rs'), i32(1)),
    op.if, blockVoid,
    f.forRange('p', i32(0), g('kc'), i32(1), adjacentRows),
    op.else,
    eq(g('cs'), i32(1)),
    op.if, blockVoid,
    f.forRange('p', i32(0), g('kc4'), i32(4), fourSteps),
    f.forRange('p', g('kc4'), g('kc'), i32(1), scalarStep),
    op.else,
    f.forRange('p', i32(0), g('kc'), i32(1), scalarStep),
    op.end,
    op.end,
  ];
  const edgePanel: Code = [
    f.set('ir', g('full')),
    f.set('d', add(g('dst'), mul(mul(g('ir'), g('kc')), i32(4)))),
    f.forRange('p', i32(0), g('kc'), i32(1), [
      range(MR).map((r) =>
        f32Store(
          g('d'),
          ifElse(
            'f32',
            ltS(add(g('ir'), i32(r)), g('mc')),
            f32Load(add(g('src'), mul(add(mul(add(add(g('i0'), g('ir')), i32(r)), g('rs')), mul(add(g('p0'), g('p')), g('cs'))), i32(4)))),
            f32(0),
          ),
          r * 4,
        ),
      ),
      f.inc('d', i32(MR * 4)),
    ]),
  ];
  return {
    fn: f,
    body: [
      f.set('rs4', mul(g('rs'), i32(4))),
      f.set('cs4', mul(g('cs'), i32(4))),
      f.set('kc4', and(g('kc'), i32(-4))),
      // The largest multiple of MR not above mc (MR need not be a power of two).
      f.set('full', sub(g('mc'), [g('mc'), i32(MR), op.i32RemU])),
      f.forRange('ir', i32(0), g('full'), i32(MR), fullPanel),
      when(ltS(g('full'), g('mc')), edgePanel),
    ],
  };
}

/**
 * Pack op(B)[p0 : p0 + kc, j0 : j0 + nc] into NR-column panels: dst[panel][p][c], zero beyond nc columns.
 */
function packB(t: GemmTile): { fn: FunctionBuilder; body: Code } {
  const NR = 4 * t.nv;
  const f = new FunctionBuilder({ src: 'i32', rs: 'i32', cs: 'i32', j0: 'i32', nc: 'i32', p0: 'i32', kc: 'i32', dst: 'i32' });
  f.locals('i32', 'jr', 'p', 's', 'd', 'q', 'rs4', 'cs4', 'full', 'kc4');
  f.locals('v128', 'v0', 'v1', 'v2', 'v3', 't0', 't1', 't2', 't3');
  const g = (n: string) => f.get(n);
  const cols = range(NR);
  // One scalar k step of a panel: NR columns, cs4 bytes apart, from s to d.
  const scalarStep: Code = [
    f.set('q', g('s')),
    cols.map((c) => [f32Store(g('d'), f32Load(g('q')), c * 4), f.inc('q', g('cs4'))]),
    f.inc('s', g('rs4')),
    f.inc('d', i32(NR * 4)),
  ];
  // Transposed B (rs = 1, each column contiguous in k): four k steps of NR columns as NR / 4 4x4 transposes.
  const columnAt = (c: number): Code => (c === 0 ? g('s') : add(g('s'), mul(g('cs4'), i32(c))));
  const transposedSteps: Code = [
    f.forRange('p', i32(0), g('kc4'), i32(4), [
      range(t.nv).map((v) => [
        range(4).map((c) => f.set(`v${c}`, v128Load(columnAt(4 * v + c)))),
        storeTransposed4(f, g('d'), NR * 4, 16 * v),
      ]),
      f.inc('s', i32(16)),
      f.inc('d', i32(4 * NR * 4)),
    ]),
    f.forRange('p', g('kc4'), g('kc'), i32(1), scalarStep),
  ];
  const fullPanel: Code = [
    f.set('s', add(g('src'), mul(add(mul(g('p0'), g('rs')), mul(add(g('j0'), g('jr')), g('cs'))), i32(4)))),
    f.set('d', add(g('dst'), mul(mul(g('jr'), g('kc')), i32(4)))),
    // Untransposed B (cs = 1): a panel row is NR adjacent floats, NR / 4 vector loads per k.
    eq(g('cs'), i32(1)),
    op.if, blockVoid,
    f.forRange('p', i32(0), g('kc'), i32(1), [
      range(t.nv).map((v) => v128Store(g('d'), v128Load(g('s'), 16 * v), 16 * v)),
      f.inc('s', g('rs4')),
      f.inc('d', i32(NR * 4)),
    ]),
    op.else,
    eq(g('rs'), i32(1)),
    op.if, blockVoid,
    transposedSteps,
    op.else,
    f.forRange('p', i32(0), g('kc'), i32(1), scalarStep),
    op.end,
    op.end,
  ];
  const edgePanel: Code = [
    f.set('jr', g('full')),
    f.set('d', add(g('dst'), mul(mul(g('jr'), g('kc')), i32(4)))),
    f.forRange('p', i32(0), g('kc'), i32(1), [
      cols.map((c) =>
        f32Store(
          g('d'),
          ifElse(
            'f32',
            ltS(add(g('jr'), i32(c)), g('nc')),
            f32Load(add(g('src'), mul(add(mul(add(g('p0'), g('p')), g('rs')), mul(add(add(g('j0'), g('jr')), i32(c)), g('cs'))), i32(4)))),
            f32(0),
          ),
          c * 4,
        ),
      ),
      f.inc('d', i32(NR * 4)),
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
      when(ltS(g('full'), g('nc')), edgePanel),
    ],
  };
}

/**
 * Copy the inside (rows x cols) of an edge tile computed at src (NR floats a row) to C at dst (rows ldc4 bytes
 * apart): stored by the first k block, added by the later ones, like a whole tile.
 */
function edgeCopy(t: GemmTile): { fn: FunctionBuilder; body: Code } {
  const NR = 4 * t.nv;
  const f = new FunctionBuilder({ src: 'i32', dst: 'i32', rows: 'i32', cols: 'i32', ldc4: 'i32', accumulate: 'i32' });
  f.locals('i32', 'r', 'c', 's', 'd');
  const g = (n: string) => f.get(n);
  const at = (base: string) => add(g(base), mul(g('c'), i32(4)));
  return {
    fn: f,
    body: f.forRange('r', i32(0), g('rows'), i32(1), [
      f.set('s', add(g('src'), mul(g('r'), i32(NR * 4)))),
      f.set('d', add(g('dst'), mul(g('r'), g('ldc4')))),
      f.forRange('c', i32(0), g('cols'), i32(1),
        f32Store(at('d'), ifElse('f32', g('accumulate'), [f32Load(at('d')), f32Load(at('s')), op.f32Add], f32Load(at('s')))),
      ),
    ]),
  };
}

/** Parameter order of the exported `gemm`; the thread pool passes them in this order. */
export const GEMM_PARAMS = [
  'a', 'b', 'c', 'batch0', 'batch1', 'strideA', 'strideB', 'strideC',
  'k', 'rsA', 'csA', 'rsB', 'csB', 'ldc', 'i0', 'i1', 'j0', 'j1', 'packA', 'packB',
] as const;

interface FunctionIndices {
  readonly kernel: number;
  /** -1 when the tile does not read A in place. */
  readonly kernelInPlace: number;
  readonly packA: number;
  readonly packB: number;
  readonly edgeCopy: number;
}

function driver(t: GemmTile, fi: FunctionIndices): { fn: FunctionBuilder; body: Code } {
  const MR = t.mr;
  const NR = 4 * t.nv;
  const { mc: MC, nc: NC } = blocking(t);
  const { bBytes } = packLayout(t);
  const f = new FunctionBuilder(Object.fromEntries(GEMM_PARAMS.map((p) => [p, 'i32' as const])));
  f.locals('i32', 'bi', 'jc', 'pc', 'ic', 'jr', 'ir', 'nc', 'kc', 'mc', 'aB', 'bB', 'cB', 'ldc4', 'lda4');
  f.locals('i32', 'inPlace', 'full', 'rows', 'cols', 'whole', 'cp', 'bp', 'edge', 'accumulate');
  const g = (n: string) => f.get(n);
  // A tile that sticks out of C is computed into the edge buffer (NR floats a row, stored, not accumulated).
  const target = ifElse('i32', g('whole'), g('cp'), g('edge'));
  const targetLd = ifElse('i32', g('whole'), g('ldc4'), i32(NR * 4));
  const targetAcc = [g('whole'), g('accumulate'), op.i32And];
  const packedPanel = ifElse('i32', g('inPlace'), g('packA'), add(g('packA'), mul(mul(g('ir'), g('kc')), i32(4))));
  const runKernel: Code =
    fi.kernelInPlace < 0
      ? call(fi.kernel, packedPanel, g('bp'), target, g('kc'), targetLd, targetAcc)
      : [
          [g('inPlace'), eq(g('rows'), i32(MR)), op.i32And],
          op.if, blockVoid,
          call(fi.kernelInPlace, add(g('aB'), mul(add(mul(add(g('ic'), g('ir')), g('rsA')), g('pc')), i32(4))), g('lda4'), g('bp'), target, g('kc'), targetLd, targetAcc),
          op.else,
          call(fi.kernel, packedPanel, g('bp'), target, g('kc'), targetLd, targetAcc),
          op.end,
        ];
  const tiles = f.forRange('jr', i32(0), g('nc'), i32(NR), [
    f.set('cols', minS(sub(g('nc'), g('jr')), i32(NR))),
    f.set('bp', add(g('packB'), mul(mul(g('jr'), g('kc')), i32(4)))),
    f.forRange('ir', i32(0), g('mc'), i32(MR), [
      f.set('rows', minS(sub(g('mc'), g('ir')), i32(MR))),
      f.set('cp', add(g('cB'), mul(add(mul(add(g('ic'), g('ir')), g('ldc')), add(g('jc'), g('jr'))), i32(4)))),
      f.set('whole', [eq(g('rows'), i32(MR)), eq(g('cols'), i32(NR)), op.i32And]),
      runKernel,
      when(eq(g('whole'), i32(0)), call(fi.edgeCopy, g('edge'), g('cp'), g('rows'), g('cols'), g('ldc4'), g('accumulate'))),
    ]),
  ]);
  // In place, only the last, partial panel of A (if any) is packed, at packA; otherwise the whole block is.
  const packBlockOfA: Code = [
    g('inPlace'),
    op.if, blockVoid,
    f.set('full', sub(g('mc'), [g('mc'), i32(MR), op.i32RemU])),
    when(ltS(g('full'), g('mc')),
      call(fi.packA, g('aB'), g('rsA'), g('csA'), add(g('ic'), g('full')), sub(g('mc'), g('full')), g('pc'), g('kc'), g('packA'))),
    op.else,
    call(fi.packA, g('aB'), g('rsA'), g('csA'), g('ic'), g('mc'), g('pc'), g('kc'), g('packA')),
    op.end,
  ];
  const body: Code = [
    f.set('ldc4', mul(g('ldc'), i32(4))),
    f.set('lda4', mul(g('rsA'), i32(4))),
    f.set('edge', add(g('packB'), i32(bBytes))),
    f.set('inPlace', fi.kernelInPlace < 0 ? i32(0) : eq(g('csA'), i32(1))),
    f.forRange('bi', g('batch0'), g('batch1'), i32(1), [
      f.set('aB', add(g('a'), mul(g('bi'), g('strideA')))),
      f.set('bB', add(g('b'), mul(g('bi'), g('strideB')))),
      f.set('cB', add(g('c'), mul(g('bi'), g('strideC')))),
      f.forRange('jc', g('j0'), g('j1'), i32(NC), [
        f.set('nc', minS(sub(g('j1'), g('jc')), i32(NC))),
        f.forRange('pc', i32(0), g('k'), i32(KC), [
          f.set('kc', minS(sub(g('k'), g('pc')), i32(KC))),
          f.set('accumulate', [g('pc'), i32(0), op.i32GtS]),
          call(fi.packB, g('bB'), g('rsB'), g('csB'), g('jc'), g('nc'), g('pc'), g('kc'), g('packB')),
          f.forRange('ic', g('i0'), g('i1'), i32(MC), [
            f.set('mc', minS(sub(g('i1'), g('ic')), i32(MC))),
            packBlockOfA,
            tiles,
          ]),
        ]),
      ]),
    ]),
  ];
  return { fn: f, body };
}

/** Bytes of the GEMM module, importing its memory as env.memory. Exports `gemm`. */
export function buildGemmModule(options: GemmModuleOptions): Uint8Array<ArrayBuffer> {
  const t = options.tile ?? gemmTile(options.relaxedSimd);
  const m = new ModuleBuilder().importMemory({
    module: 'env',
    name: 'memory',
    initialPages: 1,
    maximumPages: options.maximumPages,
    shared: options.sharedMemory,
  });
  const addFn = (name: string, built: { fn: FunctionBuilder; body: Code }) => m.addFunction(name, built.fn, built.body);
  const kernel = addFn('kernel', microKernel(t, options.relaxedSimd));
  const kernelInPlace = t.inPlaceA ? addFn('kernelInPlaceA', microKernelInPlaceA(t, options.relaxedSimd)) : -1;
  const fi: FunctionIndices = {
    kernel,
    kernelInPlace,
    packA: addFn('packA', packA(t)),
    packB: addFn('packB', packB(t)),
    edgeCopy: addFn('edgeCopy', edgeCopy(t)),
  };
  addFn('gemm', driver(t, fi));
  return m.encode();
}
