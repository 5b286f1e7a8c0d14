/**
 * Training checkpoints as one safetensors file: the model's state_dict under `model.<key>` (timm names, so
 * `model.` stripped gives a loadable state_dict), the optimizer's tensor state under `optimizer.<param index>.<name>`,
 * and everything else (step, per-parameter step counts, parameter-group options, the data/augmentation generator
 * state, user fields) as JSON in `__metadata__`. Resuming from it gives the same next step as never stopping.
 */
import { loadSafetensors, saveSafetensors, Tensor, type Module, type Optimizer, type OptimizerStateDict, type ParamState } from '@formers/tensor-core';

export const CHECKPOINT_FORMAT = 'formers-vit-checkpoint/1';

export interface CheckpointExtra {
  /** Optimisation steps done. */
  readonly step: number;
  /** State of the trainer's generator (Generator.getState()). */
  readonly generatorState: readonly number[];
  /** Free-form JSON-able fields (config, metrics). */
  readonly info?: Record<string, unknown>;
}

/** Serialise model + optimizer + trainer state. */
export function saveCheckpoint(model: Module, optimizer: Optimizer<{ lr: number }>, extra: CheckpointExtra): Uint8Array {
  const tensors = new Map<string, Tensor>();
  for (const [k, t] of model.stateDict()) tensors.set(`model.${k}`, t);
  const sd = optimizer.stateDict();
  const scalars: Record<string, Record<string, number>> = {};
  for (const [idx, st] of Object.entries(sd.state)) {
    for (const [k, v] of Object.entries(st)) {
      if (v instanceof Tensor) tensors.set(`optimizer.${idx}.${k}`, v);
      else (scalars[idx] ??= {})[k] = v;
    }
  }
  const metadata = {
    format: CHECKPOINT_FORMAT,
    step: String(extra.step),
    generator_state: JSON.stringify(extra.generatorState),
    optimizer_scalars: JSON.stringify(scalars),
    optimizer_param_groups: JSON.stringify(sd.paramGroups),
    info: JSON.stringify(extra.info ?? {}),
  };
  return saveSafetensors(tensors, metadata);
}

/** Restore a checkpoint into an existing model and optimizer (built with the same config); returns the extra state. */
export function loadCheckpoint(bytes: Uint8Array, model: Module, optimizer: Optimizer<{ lr: number }>): CheckpointExtra {
  const { tensors, metadata } = loadSafetensors(bytes);
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new Error(`loadCheckpoint: expected a checkpoint with metadata format "${CHECKPOINT_FORMAT}"; got ${JSON.stringify(metadata.format)}`);
  }
  const modelSd = new Map<string, Tensor>();
  const state: Record<number, ParamState> = {};
  for (const [k, t] of tensors) {
    if (k.startsWith('model.')) modelSd.set(k.slice('model.'.length), t);
    else if (k.startsWith('optimizer.')) {
      const [, idx, ...rest] = k.split('.');
      (state[Number(idx)] ??= {})[rest.join('.')] = t;
    } else throw new Error(`loadCheckpoint: unexpected tensor "${k}" (expected model.* or optimizer.*)`);
  }
  const scalars = JSON.parse(metadata.optimizer_scalars) as Record<string, Record<string, number>>;
  for (const [idx, st] of Object.entries(scalars)) Object.assign((state[Number(idx)] ??= {}), st);
  model.loadStateDict(modelSd, { strict: true });
  const sd: OptimizerStateDict = { state, paramGroups: JSON.parse(metadata.optimizer_param_groups) };
  optimizer.loadStateDict(sd);
  return { step: Number(metadata.step), generatorState: JSON.parse(metadata.generator_state), info: JSON.parse(metadata.info) };
}
