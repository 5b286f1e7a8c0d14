import type { UnaryOp } from '../../types.js';

/**
 * Each unary op as kernel statements that read the float `v` and assign `r` (declared by the caller). They are
 * written for float32 hardware: no op overflows where the function itself is finite (sigmoid and tanh are split
 * by sign, softplus uses max(x, 0) + log1p(exp(-|x|))), because GLSL/WGSL builtins may not guard that.
 */

/**
 * erfc(|z|) for z >= 0 with fractional error below 1.2e-7 everywhere: the Chebyshev-fitted exponential of
 * Press et al., Numerical Recipes (2nd ed., section 6.2, erfcc). Relative accuracy in the far tail is what exact
 * GELU's negative side needs.
 */
function erfcAbs(z: string, out: string): string {
  return [
    `const ${out}t = 1.0 / (1.0 + 0.5 * ${z});`,
    `const ${out} = ${out}t * Math.exp(-${z} * ${z} - 1.26551223 + ${out}t * (1.00002368 + ${out}t * (0.37409196 + ${out}t * (0.09678418 +`,
    `  ${out}t * (-0.18628806 + ${out}t * (0.27886807 + ${out}t * (-1.13520398 + ${out}t * (1.48851587 +`,
    `  ${out}t * (-0.82215223 + ${out}t * 0.17087277)))))))));`,
  ].join('\n');
}

/** erfc(x) for any x, into `out`, using erfc(-x) = 2 - erfc(x). */
function erfc(x: string, out: string): string {
  return [
    erfcAbs(`Math.abs(${x})`, `${out}a`),
    `let ${out} = ${out}a;`,
    `if (${x} < 0.0) { ${out} = 2.0 - ${out}a; }`,
  ].join('\n');
}

/** tanh(x) into `out` as sign(x) (1 - e^{-2|x|}) / (1 + e^{-2|x|}), finite for every x. */
function tanh(x: string, out: string): string {
  return [
    `const ${out}e = Math.exp(-2.0 * Math.abs(${x}));`,
    `let ${out} = (1.0 - ${out}e) / (1.0 + ${out}e);`,
    `if (${x} < 0.0) { ${out} = -${out}; }`,
  ].join('\n');
}

/** sigmoid(x) into `out`, split by sign so exp never overflows. */
function sigmoid(x: string, out: string): string {
  return [
    `const ${out}e = Math.exp(-Math.abs(${x}));`,
    `let ${out} = 1.0 / (1.0 + ${out}e);`,
    `if (${x} < 0.0) { ${out} = ${out}e / (1.0 + ${out}e); }`,
  ].join('\n');
}

/**
 * sin or cos of `x` into `out` with float32 accuracy on every backend. WGSL only promises an absolute error of
 * 2^-11 for its builtins inside [-pi, pi] (and nothing outside), and SwiftShader's is about 2e-4, so the GPU
 * builtins are not used: the argument is reduced by k * pi/2 in three Cody-Waite parts (exact products for
 * |k| < 2^15), then Cephes' single-precision minimax polynomials for sin and cos on [-pi/4, pi/4] are evaluated
 * and combined by the quadrant k mod 4.
 */
function sinCos(x: string, out: string, which: 'sin' | 'cos'): string {
  const pick =
    which === 'sin'
      ? [`${out}s`, `${out}c`, `-${out}s`, `-${out}c`]
      : [`${out}c`, `-${out}s`, `-${out}c`, `${out}s`];
  return [
    `const ${out}k = Math.floor(${x} * 0.6366197723675814 + 0.5);`,
    `const ${out}r = ((${x} - ${out}k * 1.5703125) - ${out}k * 0.0004837512969970703) - ${out}k * 7.549789954891882e-8;`,
    `const ${out}z = ${out}r * ${out}r;`,
    `const ${out}s = ((-0.00019515295891 * ${out}z + 0.0083321608736) * ${out}z - 0.16666654611) * ${out}z * ${out}r + ${out}r;`,
    `const ${out}c = ((0.00002443315711809948 * ${out}z - 0.001388731625493765) * ${out}z + 0.04166664568298827) * ${out}z * ${out}z - 0.5 * ${out}z + 1.0;`,
    `const ${out}q = ${out}k - 4.0 * Math.floor(${out}k * 0.25);`,
    `let ${out} = ${pick[0]};`,
    `if (${out}q == 1.0) { ${out} = ${pick[1]}; }`,
    `if (${out}q == 2.0) { ${out} = ${pick[2]}; }`,
    `if (${out}q == 3.0) { ${out} = ${pick[3]}; }`,
  ].join('\n');
}

const SQRT1_2 = '0.7071067811865476';
const SQRT_2_OVER_PI = '0.7978845608028654';

export const UNARY_STATEMENTS: Readonly<Record<UnaryOp, string>> = {
  identity: 'r = v;',
  neg: 'r = -v;',
  abs: 'r = Math.abs(v);',
  sign: 'if (v > 0.0) { r = 1.0; } else if (v < 0.0) { r = -1.0; } else { r = v; }',
  exp: 'r = Math.exp(v);',
  log: 'r = Math.log(v);',
  log1p: 'r = Math.log1p(v);',
  expm1: 'r = Math.expm1(v);',
  sqrt: 'r = Math.sqrt(v);',
  rsqrt: 'r = 1.0 / Math.sqrt(v);',
  reciprocal: 'r = 1.0 / v;',
  square: 'r = v * v;',
  sin: `${sinCos('v', 'sn', 'sin')}\nr = sn;`,
  cos: `${sinCos('v', 'cs', 'cos')}\nr = cs;`,
  tanh: `${tanh('v', 'th')}\nr = th;`,
  sigmoid: `${sigmoid('v', 'sg')}\nr = sg;`,
  erf: `${erfc('v', 'ec')}\nr = 1.0 - ec;`,
  // NaN stays NaN, as torch.relu (v != v only holds for NaN).
  relu: 'if (v > 0.0) { r = v; } else if (v != v) { r = v; } else { r = 0.0; }',
  // Exact GELU x * Phi(x), Phi(x) = erfc(-x / sqrt 2) / 2 (Hendrycks & Gimpel 2016).
  gelu: `const gz = -v * ${SQRT1_2};\n${erfc('gz', 'ec')}\nr = 0.5 * v * ec;`,
  // The tanh approximation, torch's gelu(approximate='tanh').
  gelu_tanh: `const gu = ${SQRT_2_OVER_PI} * (v + 0.044715 * v * v * v);\n${tanh('gu', 'th')}\nr = 0.5 * v * (1.0 + th);`,
  silu: `${sigmoid('v', 'sg')}\nr = v * sg;`,
  elu: 'if (v > 0.0) { r = v; } else { r = Math.expm1(v); }',
  softplus: 'r = Math.max(v, 0.0) + Math.log1p(Math.exp(-Math.abs(v)));',
  floor: 'r = Math.floor(v);',
  ceil: 'r = Math.ceil(v);',
  // Round half to even, as torch.round: floor(v + 0.5), minus one when v was an exact half and that is odd.
  round:
    'r = Math.floor(v + 0.5);\nif (r - v == 0.5) { const rh = r * 0.5; if (rh != Math.floor(rh)) { r = r - 1.0; } }',
};
