/** Every golden case of this package (test/golden/*.safetensors), forward and gradients, on reference and default. */
import { fileURLToPath } from 'node:url';
import { describeGoldenCases } from '../../../tooling/src/conformance/describe-golden-cases.js';
import './conformance-ops.js';

describeGoldenCases({ dir: fileURLToPath(new URL('./golden/', import.meta.url)), script: 'tooling/reference/attention_linear.py', minCases: 29 });
