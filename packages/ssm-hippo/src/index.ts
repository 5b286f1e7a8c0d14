export {
  matrix,
  zerosMatrix,
  identity,
  at,
  toRows,
  transpose,
  axpby,
  scale,
  matmul,
  norm1,
  solve,
  expm,
  expmSeries,
  type Matrix,
} from './linalg.js';
export {
  hippoLegT,
  hippoLegS,
  hippoLagT,
  hippoFouT,
  hippoTransition,
  legsLowRank,
  type Transition,
  type HippoMeasure,
  type LegTOptions,
  type LagTOptions,
} from './hippo.js';
export { discretize, runDiscrete, type DiscretizationMethod } from './discretize.js';
export {
  S4D,
  S4DKernelModule,
  s4dInitA,
  s4dDiscretize,
  s4dKernel,
  fftConv,
  type S4DOptions,
  type S4DState,
  type S4DInit,
  type S4DDiscretization,
  type S4DKernelParams,
} from './s4d.js';
export {
  selectiveScan,
  selectiveStateUpdate,
  associativeScan,
  type SelectiveScanMode,
  type SelectiveScanOptions,
  type SelectiveScanResult,
  type SelectiveStateUpdateOptions,
} from './selective-scan.js';
export { Mamba, type MambaOptions, type MambaScanMode, type MambaState } from './mamba.js';
export { HippoMemory, legendre, laguerre, type HippoMemoryOptions } from './hippo-online.js';
export { S4, S4KernelModule, legsNplr, s4Kernel, s4CTilde, type S4Options, type S4State, type S4KernelParams, type LegSNplr } from './s4.js';
export { hermitianEig, cmatmul, csolve, cpow, type CMatrix } from './complex-linalg.js';
export { MambaModel, MambaResidualBlock, type MambaModelOptions } from './mamba-model.js';
