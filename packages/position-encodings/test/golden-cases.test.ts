/** Every golden case of this package (test/golden/*.safetensors), forward and gradients, on reference and default. */
import { fileURLToPath } from 'node:url';
import { describeGoldenCases } from '../../../tooling/src/conformance/describe-golden-cases.js';
import './conformance-ops.js';

// 54 1-D and 2-D cases of the first pass + 8 grid forms (*_2d).
describeGoldenCases({ dir: fileURLToPath(new URL('./golden/', import.meta.url)), script: 'tooling/reference/position_encodings.py', minCases: 62 });
