/**
 * Worker threads that run exports of WebAssembly modules on one shared memory, so that a call can be split over
 * cores and still return synchronously: the caller writes each worker's arguments into a shared control array,
 * wakes it with Atomics.notify, computes its own share, and waits until every worker has counted itself done. No
 * message passing happens per call. Every module on a memory (the GEMM, the float32 kernels) shares one pool, so
 * the machine runs one worker per extra core, not one per module.
 *
 * After a round, workers and the caller spin (poll the control array) for a few milliseconds before they block in
 * Atomics.wait, as OpenMP runtimes and OpenBLAS do (KMP_BLOCKTIME, GOMP_SPINCOUNT). Kernels come in bursts, and
 * waking a blocked thread costs 20-50 us. Worse, on the 2-vCPU VM measured here a worker woken after 10 ms asleep
 * ran on the caller's own vCPU about half the time (its CPU read from /proc/thread-self/stat), so the two threads
 * shared one core until the load balancer moved one: GEMM n = 512 took 4.8 ms instead of 2.6 when each call came
 * 10 ms after the last. FORMERS_WASM_SPIN_MS (default 5; 0 blocks at once) sets how long they spin.
 *
 * Workers are unref'd, so they never keep a Node process alive, and they are reused for every call.
 */
import { nodeBuiltin } from './features.js';

interface WorkerLike {
  unref(): void;
  terminate(): Promise<number>;
  on(event: 'error', listener: (e: unknown) => void): void;
}
type WorkerThreads = {
  Worker: new (code: string, options: { eval: true; workerData: unknown; name?: string }) => WorkerLike;
};

/** How long threads spin after a round before they block (ms); see the file comment. */
export const DEFAULT_SPIN_MS = 5;

// Control array layout (Int32): [DONE] workers finished this round, [ERROR] a worker failed, [NEXT] the next
// unclaimed chunk, [SEQ] the round number workers wait on, [READY + w] worker w instantiated (1) or failed (-1);
// then the round's shared arguments and how to cut them into chunks.
const DONE = 0;
const ERROR = 1;
const NEXT = 2;
const SEQ = 3;
const STOP = 4;
/** Which export this round calls, and how many arguments it takes. */
const FN = 5;
const NARGS = 6;
const READY = 8;
const MAX_WORKERS = 64;
const ARGS = READY + MAX_WORKERS;
const MAX_ARGS = 32;
// SPLIT: [index of the first of the two arguments a chunk replaces, unit, extent, chunks, bytes per thread's
// packing buffers, offset of the B buffer inside them, index of the packA argument, address of thread 0's].
const SPLIT = ARGS + MAX_ARGS;
const CONTROL_LENGTH = SPLIT + 8;
/** How long the first call waits for workers to start before it gives up on threads. */
const START_TIMEOUT_MS = 10_000;

/** How a round's output is cut: chunk c replaces args[index], args[index + 1] with its [start, end). */
export interface Split {
  /** Index of the range's start argument (its end follows it). */
  readonly index: number;
  /** Chunk boundaries fall on multiples of `unit` (a micro-tile), except the last at `extent`. */
  readonly unit: number;
  readonly extent: number;
  readonly chunks: number;
}

/**
 * Where thread t's packing buffers are: args[packIndex] = base + t * bytes, args[packIndex + 1] = that + bOffset.
 */
export interface PackSlots {
  readonly packIndex: number;
  readonly bytes: number;
  readonly bOffset: number;
  readonly base: number;
}

/**
 * Chunk c of a split as [start, end). Written once here and once, identically, in WORKER_SOURCE.
 */
export function chunkRange(split: Split, c: number): [number, number] {
  const units = Math.ceil(split.extent / split.unit);
  const start = Math.floor((c * units) / split.chunks) * split.unit;
  const end = Math.min(split.extent, Math.floor(((c + 1) * units) / split.chunks) * split.unit);
  return [start, end];
}

/**
 * The worker's whole program, run with `eval`. Plain JavaScript, kept small: it instantiates the module on the
 * shared memory, then for each round claims chunks from the shared counter until none are left, and counts
 * itself done. Chunks are claimed dynamically so that a worker the OS schedules late (other processes on the
 * core) costs the caller little: the caller takes the chunks the worker has not claimed.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { modules, memory, control, thread, C, spinMs } = workerData;
const ctl = new Int32Array(control);
let fns = null;
try {
  fns = modules.flatMap(({ module, exportNames }) => {
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
    return exportNames.map((name) => exports[name]);
  });
  Atomics.store(ctl, C.READY + thread - 1, 1);
} catch (e) {
  Atomics.store(ctl, C.READY + thread - 1, -1);
}
Atomics.notify(ctl, C.READY + thread - 1);
let seen = 0;
for (;;) {
  // Spin a while for the next round (a clock read every 256 polls), then block.
  if (spinMs > 0 && Atomics.load(ctl, C.SEQ) === seen) {
    const until = performance.now() + spinMs;
    for (let i = 1; Atomics.load(ctl, C.SEQ) === seen; i++) if ((i & 255) === 0 && performance.now() > until) break;
  }
  Atomics.wait(ctl, C.SEQ, seen);
  if (Atomics.load(ctl, C.STOP) !== 0) break;
  const seq = Atomics.load(ctl, C.SEQ);
  if (seq === seen) continue;
  seen = seq;
  const args = Array.from(ctl.subarray(C.ARGS, C.ARGS + ctl[C.NARGS]));
  const [index, unit, extent, chunks, bytes, bOffset, packIndex, packBase] = ctl.subarray(C.SPLIT, C.SPLIT + 8);
  if (packIndex >= 0) {
    args[packIndex] = packBase + thread * bytes;
    args[packIndex + 1] = packBase + thread * bytes + bOffset;
  }
  const units = Math.ceil(extent / unit);
  try {
    if (fns === null) throw new Error('not instantiated');
    const fn = fns[ctl[C.FN]];
    for (let c = Atomics.add(ctl, C.NEXT, 1); c < chunks; c = Atomics.add(ctl, C.NEXT, 1)) {
      args[index] = Math.floor((c * units) / chunks) * unit;
      args[index + 1] = Math.min(extent, Math.floor(((c + 1) * units) / chunks) * unit);
      fn(...args);
    }
  } catch (e) {
    Atomics.store(ctl, C.ERROR, 1);
  }
  Atomics.add(ctl, C.DONE, 1);
  Atomics.notify(ctl, C.DONE);
}
`;

/** FORMERS_WASM_SPIN_MS when set (a number of milliseconds in [0, 1000]), else DEFAULT_SPIN_MS. */
export function defaultSpinMs(): number {
  const raw = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.FORMERS_WASM_SPIN_MS;
  if (raw === undefined || raw === '') return DEFAULT_SPIN_MS;
  const ms = Number(raw);
  if (!(ms >= 0 && ms <= 1000)) throw new Error(`FORMERS_WASM_SPIN_MS: expected a number of milliseconds in [0, 1000]; got "${raw}"`);
  return ms;
}

/** The pools of each memory, by worker count (see `WasmThreadPool.forMemory`). */
const poolsByMemory = new WeakMap<WebAssembly.Memory, Map<number, WasmThreadPool>>();

/**
 * Worker threads that run exports of WebAssembly modules on one shared memory (the GEMM's `gemm`, the float32
 * module's kernels), each round one export over the chunks of a split.
 */
export class WasmThreadPool {
  private ctl: Int32Array;
  private readonly workers: WorkerLike[] = [];
  private readonly modules: { module: WebAssembly.Module; exportNames: readonly string[] }[] = [];
  private functionCount = 0;
  private seq = 0;
  private started = false;
  private failure: string | null = null;
  /** The last run's time computing on the calling thread, and waiting for the workers after that (ms). */
  lastOwnMs = 0;
  lastWaitMs = 0;

  /**
   * The pool with `workerCount` workers that every module on `memory` shares, created on first use.
   * `spinMs` (default FORMERS_WASM_SPIN_MS, else DEFAULT_SPIN_MS) applies when this call creates it.
   */
  static forMemory(memory: WebAssembly.Memory, workerCount: number, spinMs?: number): WasmThreadPool {
    let pools = poolsByMemory.get(memory);
    if (!pools) poolsByMemory.set(memory, (pools = new Map()));
    let pool = pools.get(workerCount);
    if (!pool || pool.failed === 'terminated') pools.set(workerCount, (pool = new WasmThreadPool(memory, workerCount, spinMs)));
    return pool;
  }

  /**
   * @param workerCount workers besides the caller.
   * @param spinMs how long threads spin after a round before they block (ms).
   */
  constructor(
    private readonly memory: WebAssembly.Memory,
    readonly workerCount: number,
    readonly spinMs: number = defaultSpinMs(),
  ) {
    if (workerCount > MAX_WORKERS) throw new Error(`WasmThreadPool: expected at most ${MAX_WORKERS} workers; got ${workerCount}`);
    if (!(spinMs >= 0 && spinMs <= 1000)) throw new Error(`WasmThreadPool: expected spinMs in [0, 1000]; got ${spinMs}`);
    this.ctl = new Int32Array(new SharedArrayBuffer(4 * CONTROL_LENGTH));
  }

  /**
   * Add a module whose exports `exportNames` (each taking only i32 arguments) rounds may call; returns the `fn`
   * index of its first export (the rest follow in order). A pool whose workers already run restarts them on its
   * next round, so that they instantiate the new module too.
   */
  register(module: WebAssembly.Module, exportNames: readonly string[]): number {
    const base = this.functionCount;
    this.modules.push({ module, exportNames });
    this.functionCount += exportNames.length;
    if (this.started && this.failure === null) this.stopWorkers();
    this.started = false;
    return base;
  }

  /** Why the pool cannot run (workers failed to start or to compute), else null. */
  get failed(): string | null {
    return this.failure;
  }

  /**
   * Run export `fn` (an index from `register`) over every chunk of `split`, on the workers and the calling thread
   * (`runHere`), returning when all chunks are done. Thread t (0 = caller) uses packing buffers at
   * pack.base + t * pack.bytes. Returns false, having computed nothing, when the pool is unusable; the caller then
   * computes alone.
   */
  run(args: readonly number[], split: Split, pack: PackSlots | null, runHere: (args: number[]) => void, fn: number): boolean {
    if (args.length > MAX_ARGS) throw new Error(`WasmThreadPool: expected at most ${MAX_ARGS} arguments; got ${args.length}`);
    if (!(Number.isInteger(fn) && fn >= 0 && fn < this.functionCount)) {
      throw new Error(`WasmThreadPool: expected fn to be a registered export index in [0, ${this.functionCount}); got ${fn}`);
    }
    if (!this.start()) return false;
    const ctl = this.ctl;
    for (let i = 0; i < args.length; i++) ctl[ARGS + i] = args[i] | 0;
    ctl[FN] = fn;
    ctl[NARGS] = args.length;
    ctl.set([split.index, split.unit, split.extent, split.chunks, pack?.bytes ?? 0, pack?.bOffset ?? 0, pack?.packIndex ?? -1, pack?.base ?? 0], SPLIT);
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, NEXT, 0);
    // The Atomics.store of SEQ orders every write above before the workers' Atomics.load of it.
    Atomics.store(ctl, SEQ, ++this.seq);
    Atomics.notify(ctl, SEQ);
    const mine = [...args];
    if (pack !== null) {
      mine[pack.packIndex] = pack.base;
      mine[pack.packIndex + 1] = pack.base + pack.bOffset;
    }
    let error: unknown = null;
    const t0 = performance.now();
    try {
      for (let c = Atomics.add(ctl, NEXT, 1); c < split.chunks; c = Atomics.add(ctl, NEXT, 1)) {
        [mine[split.index], mine[split.index + 1]] = chunkRange(split, c);
        runHere(mine);
      }
    } catch (e) {
      error = e;
    }
    const t1 = performance.now();
    // Every worker must count itself done before the memory is reused, even one that found no chunk left: spin
    // a while (a worker is usually a chunk's length behind), then block.
    if (Atomics.load(ctl, DONE) < this.workerCount && this.spinMs > 0) {
      const until = t1 + this.spinMs;
      for (let i = 1; Atomics.load(ctl, DONE) < this.workerCount; i++) if ((i & 255) === 0 && performance.now() > until) break;
    }
    for (let done = Atomics.load(ctl, DONE); done < this.workerCount; done = Atomics.load(ctl, DONE)) {
      Atomics.wait(ctl, DONE, done);
    }
    this.lastOwnMs = t1 - t0;
    this.lastWaitMs = performance.now() - t1;
    if (error !== null) throw error;
    if (Atomics.load(ctl, ERROR) !== 0) {
      this.failure = 'a worker thread failed while computing';
      this.terminate();
      return false;
    }
    return true;
  }

  /** Stop the workers. The pool cannot be used afterwards. */
  terminate(): void {
    this.stopWorkers();
    this.failure ??= 'terminated';
  }

  private resetControl(): void {
    this.ctl = new Int32Array(new SharedArrayBuffer(4 * CONTROL_LENGTH));
    this.seq = 0;
  }

  private stopWorkers(): void {
    Atomics.store(this.ctl, STOP, 1);
    Atomics.store(this.ctl, SEQ, ++this.seq);
    Atomics.notify(this.ctl, SEQ);
    for (const worker of this.workers) void worker.terminate().catch(() => {});
    this.workers.length = 0;
  }

  private start(): boolean {
    if (this.failure !== null) return false;
    if (this.started) return true;
    this.started = true;
    // A fresh control array for the new workers: stopped ones may still be reading the old one.
    if (this.seq > 0) this.resetControl();
    const wt = nodeBuiltin<WorkerThreads>('node:worker_threads');
    if (!wt) {
      this.failure = 'worker_threads is unavailable';
      return false;
    }
    try {
      for (let w = 0; w < this.workerCount; w++) {
        const worker = new wt.Worker(WORKER_SOURCE, {
          eval: true,
          name: `formers-wasm-${w + 1}`,
          workerData: {
            modules: this.modules,
            memory: this.memory,
            control: this.ctl.buffer,
            thread: w + 1,
            spinMs: this.spinMs,
            C: { DONE, ERROR, NEXT, SEQ, STOP, FN, NARGS, READY, ARGS, SPLIT },
          },
        });
        worker.unref();
        // An error event arrives only on the event loop, after the call that needed the worker has returned;
        // the ready handshake below is what catches a worker that fails to start.
        worker.on('error', () => {
          this.failure ??= 'a worker thread exited with an error';
        });
        this.workers.push(worker);
      }
    } catch (e) {
      this.failure = `could not start worker threads: ${e instanceof Error ? e.message : String(e)}`;
      this.terminate();
      return false;
    }
    // Block until every worker has instantiated the module (tens of milliseconds, once).
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (let w = 0; w < this.workerCount; w++) {
      for (;;) {
        const state = Atomics.load(this.ctl, READY + w);
        if (state === 1) break;
        const left = deadline - Date.now();
        if (state === -1 || left <= 0) {
          this.failure = state === -1 ? 'a worker thread could not instantiate the module' : 'worker threads did not start in time';
          this.terminate();
          return false;
        }
        Atomics.wait(this.ctl, READY + w, 0, left);
      }
    }
    return true;
  }
}
