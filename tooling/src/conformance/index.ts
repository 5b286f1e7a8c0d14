export {
  registerConformanceOp,
  getConformanceOp,
  listConformanceOps,
  type ConformanceOpFn,
  type ConformanceTensors,
  type ConformanceContext,
  type RegisterConformanceOpOptions,
} from './registry.js';
export { readConformanceCase, DEFAULT_TOLERANCE, CASE_OP_KEY, type ConformanceCase } from './case-file.js';
export { compareTensor, type TensorCheck } from './compare.js';
export { runConformanceCase, type CaseResult } from './run-case.js';
export { REPO_ROOT, defaultCaseRoots, findCaseFiles, isCaseFile, findRegistrationModules } from './discover.js';
export { runConformance, runCaseFile, caseName, formatResult, formatSummary, type ConformanceReport } from './run.js';
export { loadAllRegistrations } from './load-registrations.js';
export { registerTensorCoreOps, TENSOR_CORE_CONFORMANCE_OPS } from './ops-tensor-core.js';
