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
  type SelectiveScanOptions,
  type SelectiveScanResult,
  type SelectiveStateUpdateOptions,
} from './selective-scan.js';
export { Mamba, type MambaOptions, type MambaState } from './mamba.js';
