/**
 * A package's golden cases as vitest tests: every case file under `dir` (written by one of our PyTorch reference
 * scripts) run through the conformance runner with the ops the package registered, on the reference backend and
 * on the default one. Import the package's conformance-ops.ts before calling this.
 */
import { describe, expect, it } from 'vitest';
import { backendInfo, getBackendByName, type BackendName } from '@formers/gpu-kernels';
import { findCaseFiles } from './discover.js';
import { formatResult, runCaseFile } from './run.js';

export interface GoldenCasesOptions {
  /** Folder of the case files (absolute). */
  readonly dir: string;
  /** The reference script that wrote them, for the suite title. */
  readonly script: string;
  /** At least this many files must be found, so a lost folder cannot pass as an empty suite. */
  readonly minCases: number;
}

export function describeGoldenCases(opts: GoldenCasesOptions): void {
  const files = findCaseFiles([opts.dir]);
  describe(`golden cases from ${opts.script}`, () => {
    it(`finds at least ${opts.minCases} case files`, () => {
      expect(files.length).toBeGreaterThanOrEqual(opts.minCases);
    });
    for (const backendName of [...new Set(['reference', backendInfo().active])] as BackendName[]) {
      for (const f of files) {
        const name = f.split('/').pop()!.replace('.safetensors', '');
        it(`${backendName}: ${name}`, async () => {
          const r = await runCaseFile(f, getBackendByName(backendName));
          expect(r.error, formatResult(r)).toBeUndefined();
          expect(r.pass, formatResult(r)).toBe(true);
        });
      }
    }
  });
}
