/** Importing every op registration: tensor-core's own, then each package's test/conformance-ops.ts. */
import { pathToFileURL } from 'node:url';
import { findRegistrationModules } from './discover.js';
import { registerTensorCoreOps } from './ops-tensor-core.js';

let loaded: Promise<string[]> | null = null;

/** Register all ops once; resolves with the package registration modules that were imported. */
export function loadAllRegistrations(): Promise<string[]> {
  loaded ??= (async () => {
    registerTensorCoreOps();
    const mods = findRegistrationModules();
    for (const m of mods) await import(pathToFileURL(m).href);
    return mods;
  })();
  return loaded;
}
