import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface Machine {
  readonly date: string;
  /** The CPU model name, plus family/model and the SIMD flags that decide GEMM speed, where /proc/cpuinfo says. */
  readonly cpu: string;
  readonly cores: number;
  readonly node: string;
  readonly platform: string;
  /** 1-minute load average when the run started: above `cores`, other processes were competing for the CPUs. */
  readonly loadAtStart: number;
}

function cpuDescription(): string {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8').split('\n');
    const field = (name: string) => info.find((l) => l.split(':')[0].trim() === name)?.split(':')[1]?.trim();
    cpu = field('model name') ?? cpu;
    const family = field('cpu family');
    const model = field('model');
    const flags = new Set((field('flags') ?? '').split(/\s+/));
    const simd = ['avx2', 'fma', 'avx512f'].filter((f) => flags.has(f));
    const details = [family && model ? `family ${family} model ${model}` : null, simd.length ? simd.join(' ') : null].filter(Boolean);
    if (details.length > 0) cpu = `${cpu} (${details.join(', ')})`;
  } catch {
    // Not Linux: os.cpus() is the best there is.
  }
  return cpu;
}

export function machine(): Machine {
  return {
    date: new Date().toISOString().slice(0, 10),
    cpu: cpuDescription(),
    cores: os.availableParallelism(),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    loadAtStart: os.loadavg()[0],
  };
}
