/** Finding golden case files: every *.safetensors whose header metadata has an `op` key. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensorsHeader } from '@formers/tensor-core';
import { CASE_OP_KEY } from './case-file.js';

/** The repository root (this file is tooling/src/conformance/discover.ts). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

/** The folders searched when no path is given: tooling/golden and every packages/<pkg>/test/golden. */
export function defaultCaseRoots(root = REPO_ROOT): string[] {
  const roots = [join(root, 'tooling', 'golden')];
  const pkgs = join(root, 'packages');
  if (existsSync(pkgs)) {
    for (const p of readdirSync(pkgs).sort()) {
      const g = join(pkgs, p, 'test', 'golden');
      if (existsSync(g)) roots.push(g);
    }
  }
  return roots.filter((r) => existsSync(r));
}

/** True when `file` is a safetensors file whose metadata names an op (the header alone is read). */
export function isCaseFile(file: string): boolean {
  try {
    return readSafetensorsHeader(new Uint8Array(readFileSync(file))).metadata[CASE_OP_KEY] !== undefined;
  } catch {
    return false;
  }
}

/**
 * Case files under `paths` (files or folders, searched recursively; node_modules skipped), sorted.
 * An explicitly named file must be a case; folders contribute only files that are.
 */
export function findCaseFiles(paths: readonly string[]): string[] {
  const out = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      if (entry === 'node_modules' || entry.startsWith('.')) continue;
      const p = join(dir, entry);
      if (statSync(p).isDirectory()) walk(p);
      else if (entry.endsWith('.safetensors') && isCaseFile(p)) out.add(p);
    }
  };
  for (const p of paths) {
    if (!existsSync(p)) throw new Error(`conformance: no such file or folder: ${p}`);
    if (statSync(p).isDirectory()) walk(p);
    else if (isCaseFile(p)) out.add(p);
    else throw new Error(`conformance: ${p} is not a conformance case (a safetensors file with an "op" metadata key)`);
  }
  return [...out].sort();
}

/** Registration modules of other packages: packages/<pkg>/test/conformance-ops.ts. */
export function findRegistrationModules(root = REPO_ROOT): string[] {
  const pkgs = join(root, 'packages');
  if (!existsSync(pkgs)) return [];
  return readdirSync(pkgs)
    .sort()
    .map((p) => join(pkgs, p, 'test', 'conformance-ops.ts'))
    .filter((f) => existsSync(f));
}
