/** Elementwise comparison of a computed tensor with its golden value, torch.allclose style. */

/** Result of comparing one tensor. */
export interface TensorCheck {
  /** e.g. 'output.out' or 'grad.weight'. */
  tensor: string;
  pass: boolean;
  /** Largest |actual - expected| (Infinity where a non-finite value does not match). */
  maxAbsErr: number;
  /** Largest |actual - expected| / |expected| over elements with expected != 0. */
  maxRelErr: number;
  /** Number of elements outside atol + rtol * |expected|. */
  mismatches: number;
  /** The first failing element, or a shape problem. */
  detail?: string;
}

/**
 * Compare `actual` with `expected` (row-major, same shape): an element passes where both are NaN, both are the
 * same infinity, or |actual - expected| <= atol + rtol * |expected|.
 */
export function compareTensor(
  tensor: string,
  actual: ArrayLike<number>,
  actualShape: readonly number[],
  expected: ArrayLike<number>,
  expectedShape: readonly number[],
  tol: { rtol: number; atol: number },
): TensorCheck {
  if (actualShape.length !== expectedShape.length || actualShape.some((d, i) => d !== expectedShape[i])) {
    return {
      tensor,
      pass: false,
      maxAbsErr: Infinity,
      maxRelErr: Infinity,
      mismatches: expected.length,
      detail: `shape [${actualShape.join(', ')}], expected [${expectedShape.join(', ')}]`,
    };
  }
  let maxAbsErr = 0;
  let maxRelErr = 0;
  let mismatches = 0;
  let detail: string | undefined;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    let ok: boolean;
    let err: number;
    if (Number.isNaN(e) || Number.isNaN(a)) {
      ok = Number.isNaN(e) && Number.isNaN(a);
      err = ok ? 0 : Infinity;
    } else if (!Number.isFinite(e) || !Number.isFinite(a)) {
      ok = a === e;
      err = ok ? 0 : Infinity;
    } else {
      err = Math.abs(a - e);
      ok = err <= tol.atol + tol.rtol * Math.abs(e);
      if (e !== 0) maxRelErr = Math.max(maxRelErr, err / Math.abs(e));
    }
    if (!Number.isFinite(err)) maxRelErr = Infinity;
    maxAbsErr = Math.max(maxAbsErr, err);
    if (!ok) {
      mismatches++;
      detail ??= `element ${i}: got ${a}, expected ${e}`;
    }
  }
  return { tensor, pass: mismatches === 0, maxAbsErr, maxRelErr, mismatches, detail };
}
