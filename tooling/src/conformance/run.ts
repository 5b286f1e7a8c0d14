/** Running many case files and formatting the report the CLI prints. */
import { readFileSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import type { Backend } from '@formers/gpu-kernels';
import { readConformanceCase } from './case-file.js';
import { REPO_ROOT } from './discover.js';
import { runConformanceCase, type CaseResult } from './run-case.js';

/** Summary of a run. */
export interface ConformanceReport {
  results: CaseResult[];
  passed: number;
  failed: number;
  backend: string;
}

/** The display name of a case file: its path relative to the repository root, without `.safetensors`. */
export function caseName(file: string): string {
  const rel = relative(REPO_ROOT, file);
  return (rel.startsWith('..') || isAbsolute(rel) ? file : rel).replace(/\.safetensors$/, '');
}

/** Run one case file; a file that cannot be read as a case becomes a failed result. */
export async function runCaseFile(file: string, backend: Backend): Promise<CaseResult> {
  const name = caseName(file);
  try {
    return await runConformanceCase(readConformanceCase(new Uint8Array(readFileSync(file)), name), backend);
  } catch (e) {
    return { name, op: '?', pass: false, checks: [], maxAbsErr: 0, maxRelErr: 0, error: (e as Error).message, rtol: NaN, atol: NaN };
  }
}

/** Run every file in order; `onResult` sees each result as it comes (for streaming output). */
export async function runConformance(
  files: readonly string[],
  backend: Backend,
  onResult?: (r: CaseResult) => void,
): Promise<ConformanceReport> {
  const results: CaseResult[] = [];
  for (const f of files) {
    const r = await runCaseFile(f, backend);
    results.push(r);
    onResult?.(r);
  }
  const passed = results.filter((r) => r.pass).length;
  return { results, passed, failed: results.length - passed, backend: backend.name };
}

const fmtErr = (x: number): string => (Number.isFinite(x) ? x.toExponential(2) : String(x));

/** One line per case, plus one indented line per failing check or error. */
export function formatResult(r: CaseResult): string {
  const head = `${r.pass ? 'PASS' : 'FAIL'}  ${r.name}  max abs err ${fmtErr(r.maxAbsErr)}  max rel err ${fmtErr(r.maxRelErr)}`;
  const lines = [head];
  if (r.error) lines.push(`      error: ${r.error}`);
  for (const ch of r.checks) {
    if (ch.pass) continue;
    lines.push(
      `      ${ch.tensor}: ${ch.mismatches} element(s) outside atol ${r.atol} + rtol ${r.rtol}|expected|; ` +
        `max abs ${fmtErr(ch.maxAbsErr)}, max rel ${fmtErr(ch.maxRelErr)}${ch.detail ? `; ${ch.detail}` : ''}`,
    );
  }
  return lines.join('\n');
}

/** The final summary line. */
export function formatSummary(rep: ConformanceReport): string {
  return `conformance (${rep.backend}): ${rep.results.length} cases, ${rep.passed} passed, ${rep.failed} failed`;
}
