/**
 * erf and erfc to near double precision, for the reference `erf` and exact `gelu` kernels.
 *
 * The fast path is a table of Taylor expansions: at every grid point g = i / 128 on [0, 6] it holds erf(g),
 * erfc(g) and the scaled derivatives erf^(n)(g) / n! for n = 1..ORDER, and a value is the nearest expansion
 * evaluated by Horner's rule (|x - g| <= 1/256). The derivatives are closed-form,
 * erf^(n)(x) = (-1)^(n-1) (2 / sqrt(pi)) H_(n-1)(x) exp(-x^2) with the physicists' Hermite polynomials, so every
 * term of erfc's expansion carries the factor exp(-g^2) and erfc keeps its relative accuracy down its tail
 * (erfc(5.9) ~ 1e-16). One evaluation costs about ten multiply-adds, against 20 to 120 series terms before.
 *
 * The grid values themselves, and everything outside the table, come from the exact forms below: the all-positive
 * series erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (2n+1)!! (Abramowitz & Stegun 7.1.6), which has
 * no cancellation, and the continued fraction for erfc (A&S 7.1.14), evaluated bottom-up.
 */

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const SERIES_LIMIT = 2.5;
// Below 2.5, 1 - erf(x) cancels (erfc(2.4) ~ 7e-4 loses three digits); the fraction converges to double precision
// from x = 1 on with 240 terms, so erfc switches to it there.
const FRACTION_LIMIT = 1;
const FRACTION_TERMS = 240;

function erfSeries(x: number): number {
  if (x < 0) return -erfSeries(-x);
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/** erfc(x) for x >= SERIES_LIMIT: exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))). */
function erfcFraction(x: number): number {
  let tail = x;
  for (let k = FRACTION_TERMS; k >= 1; k--) tail = x + k / 2 / tail;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / tail;
}

/** erf by the series and the continued fraction only: slow, and the ground truth the table is built from. */
export function erfExact(x: number): number {
  if (Number.isNaN(x)) return x;
  const ax = Math.abs(x);
  if (ax < SERIES_LIMIT) return erfSeries(x);
  const r = 1 - erfcFraction(ax);
  return x < 0 ? -r : r;
}

/** erfc by the series and the continued fraction only. */
export function erfcExact(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x >= FRACTION_LIMIT) return erfcFraction(x);
  if (x <= -FRACTION_LIMIT) return 2 - erfcFraction(-x);
  return 1 - erfSeries(x);
}

// The n-th term relative to the value is about (2 g |x - g|)^n / n!, so the far end of the table sets the size:
// a grid step of 1/128 and eight derivative terms leave the first neglected term below 4e-18 there (at g = 6,
// (12/256)^9 / 9!), well under float64's 1.1e-16. 769 rows of 10 doubles: 61 kB, built on first use.
const STEPS_PER_UNIT = 128;
const TABLE_END = 6;
const ORDER = 8;
const POINTS = TABLE_END * STEPS_PER_UNIT;
const STRIDE = ORDER + 2; // erf(g), erfc(g), then the ORDER derivative coefficients
let table: Float64Array | null = null;

function buildTable(): Float64Array {
  const t = new Float64Array((POINTS + 1) * STRIDE);
  const hermite = new Float64Array(ORDER);
  for (let i = 0; i <= POINTS; i++) {
    const g = i / STEPS_PER_UNIT;
    const at = i * STRIDE;
    t[at] = erfExact(g);
    t[at + 1] = erfcExact(g);
    // H_0 = 1, H_1 = 2x, H_(k+1) = 2x H_k - 2k H_(k-1).
    hermite[0] = 1;
    if (ORDER > 1) hermite[1] = 2 * g;
    for (let k = 1; k + 1 < ORDER; k++) hermite[k + 1] = 2 * g * hermite[k] - 2 * k * hermite[k - 1];
    const base = TWO_OVER_SQRT_PI * Math.exp(-g * g);
    let factorial = 1;
    for (let n = 1; n <= ORDER; n++) {
      factorial *= n;
      const sign = n % 2 === 1 ? 1 : -1; // (-1)^(n-1)
      t[at + 1 + n] = (sign * base * hermite[n - 1]) / factorial;
    }
  }
  return t;
}

/** sum_(n=1..ORDER) c_n d^n for the expansion at row `at`, by Horner's rule (unrolled: this is the hot loop). */
function derivativeTerms(t: Float64Array, at: number, d: number): number {
  const inner = t[at + 6] + d * (t[at + 7] + d * (t[at + 8] + d * t[at + 9]));
  return d * (t[at + 2] + d * (t[at + 3] + d * (t[at + 4] + d * (t[at + 5] + d * inner))));
}

export function erf(x: number): number {
  const ax = Math.abs(x);
  if (!(ax < TABLE_END)) return Number.isNaN(x) ? x : erfExact(x); // |erf| is 1 to double precision there
  const t = (table ??= buildTable());
  const i = Math.round(ax * STEPS_PER_UNIT);
  const at = i * STRIDE;
  const r = t[at] + derivativeTerms(t, at, ax - i / STEPS_PER_UNIT);
  return x < 0 ? -r : x === 0 ? x : r; // erf(-0) = -0, as torch
}

export function erfc(x: number): number {
  const ax = Math.abs(x);
  if (!(ax < TABLE_END)) return erfcExact(x); // NaN, and the far tails, where the fraction converges fast
  const t = (table ??= buildTable());
  const i = Math.round(ax * STEPS_PER_UNIT);
  const at = i * STRIDE;
  const terms = derivativeTerms(t, at, ax - i / STEPS_PER_UNIT);
  // erfc(-y) = 1 + erf(y): no cancellation on the negative side either.
  return x < 0 ? 1 + (t[at] + terms) : t[at + 1] - terms;
}
