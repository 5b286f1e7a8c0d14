/**
 * The cross-backend conformance suite as vitest blocks. Any backend runs it:
 *
 *   defineConformanceSuite('wasm', () => createWasmBackend(), { dtypes: ['float32', 'float64', 'int32'] });
 *
 * Each case (cases.ts) runs on the backend under test and on an oracle (the reference backend unless `against`
 * is given) and the outputs are compared per element. Async backends work unchanged: every kernel result is
 * awaited. The file imports only vitest and pure-TypeScript modules, so it can also be bundled for a browser
 * runner; outside vitest, use `runConformance` from cases.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createReferenceBackend, type Backend, type DType } from '@formers/gpu-kernels';
import { KERNEL_NAMES, buildCases, checkCase, isSkipped, type ConformanceOptions } from './cases.js';

export interface SuiteOptions extends ConformanceOptions {
  /** The oracle to compare against; default: the reference backend. */
  readonly against?: () => Backend | Promise<Backend>;
}

export function defineConformanceSuite(
  name: string,
  make: () => Backend | Promise<Backend>,
  opts: SuiteOptions = {},
): void {
  describe(`conformance: ${name}`, () => {
    let backend: Backend;
    let oracle: Backend;
    beforeAll(async () => {
      backend = await make();
      oracle = await (opts.against ?? createReferenceBackend)();
      if (opts.dtypes) {
        const unsupported = opts.dtypes.filter((d) => !backend.dtypes.includes(d));
        if (unsupported.length > 0) {
          throw new Error(`conformance ${name}: backend does not list dtypes ${unsupported.join(', ')} in backend.dtypes`);
        }
      }
    });
    // Cases are declared synchronously, before the backend exists: all dtypes unless `dtypes` narrows them.
    const dtypes: readonly DType[] = opts.dtypes ?? ['float32', 'float64', 'int32'];
    const cases = buildCases(dtypes, opts.seed ?? 42);
    for (const kernel of KERNEL_NAMES) {
      const mine = cases.filter((c) => c.kernel === kernel);
      describe(kernel, () => {
        for (const c of mine) {
          const test = isSkipped(c, opts.skip) ? it.skip : it;
          test(c.id, async (ctx) => {
            // Without explicit `dtypes`, cases in a dtype the backend does not compute in are skipped, visibly.
            if (!opts.dtypes && !c.inputs.every((i) => backend.dtypes.includes(i.dtype))) ctx.skip();
            if (!opts.dtypes && !backend.dtypes.includes(c.dtype)) ctx.skip();
            const result = await checkCase(backend, oracle, c, opts.tolerance);
            expect(result.ok, result.message).toBe(true);
          });
        }
      });
    }
  });
}
