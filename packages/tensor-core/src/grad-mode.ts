/** Whether ops record the autograd graph (torch.is_grad_enabled), and the scoped switches. */

let enabled = true;

/** True when new ops are recorded for backward. */
export function isGradEnabled(): boolean {
  return enabled;
}

/** Set grad mode globally and return the previous one (torch.set_grad_enabled). */
export function setGradEnabled(on: boolean): boolean {
  const prev = enabled;
  enabled = on;
  return prev;
}

function withMode<T>(on: boolean, fn: () => T): T {
  const prev = setGradEnabled(on);
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

/**
 * Run `fn` without recording the autograd graph (torch.no_grad). `fn` should be synchronous: the mode is restored
 * when it returns, so work after an `await` inside it runs in the outer mode.
 */
export function noGrad<T>(fn: () => T): T {
  return withMode(false, fn);
}

/** Run `fn` with graph recording on, even inside `noGrad` (torch.enable_grad). */
export function enableGrad<T>(fn: () => T): T {
  return withMode(true, fn);
}
