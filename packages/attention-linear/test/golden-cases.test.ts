/**
 * Every golden case of this package (test/golden/*.safetensors with an `op`), run through the conformance runner
 * with this package's ops (conformance-ops.ts): forward outputs and gradients w.r.t. inputs and parameters,
 * on the reference backend and on the default one.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { backendInfo, getBackendByName, type BackendName } from '@formers/gpu-kernels';
import { findCaseFiles, formatResult, runCaseFile } from '../../../tooling/src/conformance/index.js';
import './conformance-ops.js';

const files = findCaseFiles([fileURLToPath(new URL('./golden/', import.meta.url))]);

describe('golden cases from tooling/reference/attention_linear.py', () => {
  it('covers every variant', () => {
    expect(files.length).toBeGreaterThanOrEqual(29);
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
