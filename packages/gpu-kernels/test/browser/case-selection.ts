/**
 * Which conformance cases a browser backend runs. The full list is the default; the reduced list exists because
 * gpu.js compiles one shader per kernel, shape and setting, and on a software renderer (SwiftShader, 2 cores) that
 * compile dominates the run. Reducing keeps the coverage classes and drops only repeats.
 */
import type { ConformanceCase } from '../conformance/cases.js';

export type CaseListName = 'full' | 'reduced';

/**
 * The reduced list: within each (kernel, op, dtype) group, the first case of every distinct shape class, where
 * the class is the case's tags plus its label with the draw numbers taken out (`random-0` and `random-1` are one
 * class; `scalar` and `size-1` are two). So every group keeps one random case and each of its edge and layout
 * cases (size 1, scalar, empty, large, transposed, sliced, expanded, flipped, broadcast, out-of-range, ...); only
 * the second and later random draws of the same class go.
 */
export function reducedCases(cases: readonly ConformanceCase[]): ConformanceCase[] {
  const seen = new Set<string>();
  const kept: ConformanceCase[] = [];
  for (const c of cases) {
    const key = `${caseGroup(c)}|${labelClass(c)}|${[...c.tags].sort().join(',')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(c);
  }
  return kept;
}

/** `kernel/op/dtype`, or `kernel/dtype` for kernels without an op segment in their ids. */
export function caseGroup(c: ConformanceCase): string {
  const second = c.id.split('/')[1];
  return second === c.dtype ? `${c.kernel}/${c.dtype}` : `${c.kernel}/${second}/${c.dtype}`;
}

/** The id after the group, with the numbers of random draws removed: `random-3-NT/real` -> `random-#-NT/real`. */
function labelClass(c: ConformanceCase): string {
  const parts = c.id.split('/');
  const rest = parts.slice(parts[1] === c.dtype ? 2 : 3).join('/');
  return rest.replace(/random-\d+/g, 'random-#');
}

export function selectCases(cases: readonly ConformanceCase[], list: CaseListName): ConformanceCase[] {
  return list === 'reduced' ? reducedCases(cases) : [...cases];
}
