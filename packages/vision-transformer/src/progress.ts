/** A terminal progress bar (cli-progress) showing loss, learning rate and throughput; silent when not a TTY. */
import cliProgress from 'cli-progress';

export interface ProgressReporter {
  update(step: number, fields: { loss: number; lr: number; imgPerSec: number }): void;
  stop(): void;
}

/** A bar for `total` steps titled `title`; `enabled` defaults to whether stderr is a TTY. */
export function createProgress(total: number, title: string, enabled = Boolean(process.stderr.isTTY)): ProgressReporter {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      format: `${title} {bar} {value}/{total} | loss {loss} | lr {lr} | {ips} img/s | eta {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { loss: '-', lr: '-', ips: '-' });
  return {
    update: (step, f) => bar.update(step, { loss: f.loss.toFixed(4), lr: f.lr.toExponential(2), ips: f.imgPerSec.toFixed(1) }),
    stop: () => bar.stop(),
  };
}
