/**
 * Loading a module's weights straight from safetensors bytes, e.g. a PyTorch `state_dict` saved with
 * `safetensors.torch.save_file(model.state_dict(), path)`: keys load unchanged, or through a documented key map.
 */
import type { LoadStateDictResult, Module } from '../nn/module.js';
import type { Tensor } from '../tensor.js';
import { loadSafetensors } from './safetensors.js';

/** Options of `loadStateDictFromSafetensors`. */
export interface LoadStateDictFromSafetensorsOptions {
  /** Require the keys to match exactly, as `Module.loadStateDict` (default true). */
  strict?: boolean;
  /**
   * Renames file keys before loading: a record (keys it does not list keep their name) or a function; a function
   * returning null drops the key.
   */
  keyMap?: Readonly<Record<string, string>> | ((key: string) => string | null);
}

/** What `loadStateDictFromSafetensors` returns: `loadStateDict`'s key report plus the file's metadata. */
export interface LoadStateDictFromSafetensorsResult extends LoadStateDictResult {
  metadata: Record<string, string>;
}

/**
 * Parse `bytes` and copy the tensors into `module` with `module.loadStateDict`. The file is decoded on the
 * reference backend (every dtype, synchronous) and each value is moved and cast to its parameter's backend and
 * dtype by `loadStateDict`; the decoded copies are released afterwards.
 */
export function loadStateDictFromSafetensors(
  module: Module,
  bytes: Uint8Array,
  opts: LoadStateDictFromSafetensorsOptions = {},
): LoadStateDictFromSafetensorsResult {
  if (module === null || typeof module !== 'object' || typeof (module as Module).loadStateDict !== 'function') {
    throw new Error(`loadStateDictFromSafetensors: expected module to be a Module; got ${module === null ? 'null' : typeof module}`);
  }
  const { tensors, metadata } = loadSafetensors(bytes, { backend: 'reference' });
  try {
    const renamed = new Map<string, Tensor>();
    for (const [key, t] of tensors) {
      const to = mapKey(key, opts.keyMap);
      if (to === null) continue;
      if (renamed.has(to)) throw new Error(`loadStateDictFromSafetensors: keyMap sends two keys to "${to}" (one is "${key}")`);
      renamed.set(to, t);
    }
    const res = module.loadStateDict(renamed, { strict: opts.strict ?? true });
    return { ...res, metadata };
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

function mapKey(key: string, keyMap: LoadStateDictFromSafetensorsOptions['keyMap']): string | null {
  if (keyMap === undefined) return key;
  if (typeof keyMap === 'function') {
    const to = keyMap(key);
    if (to !== null && typeof to !== 'string') {
      throw new Error(`loadStateDictFromSafetensors: keyMap("${key}") must return a string or null; got ${typeof to}`);
    }
    return to;
  }
  const to = Object.prototype.hasOwnProperty.call(keyMap, key) ? keyMap[key] : key;
  if (typeof to !== 'string') throw new Error(`loadStateDictFromSafetensors: keyMap["${key}"] must be a string; got ${typeof to}`);
  return to;
}
