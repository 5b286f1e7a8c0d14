/**
 * `pnpm conformance [--backend <name>] [paths...]`: run golden cases and print, per case, PASS/FAIL with the max
 * absolute and relative errors, then a summary line. Exits 1 on any failure or unknown op, 2 on bad usage.
 * Relative paths resolve against the directory pnpm was called from (INIT_CWD). Default paths: tooling/golden
 * and every packages/<pkg>/test/golden. Default backend: $FORMERS_BACKEND, else 'reference'.
 */
import { resolve } from 'node:path';
import { isBackendName, setBackend, type BackendName } from '@formers/gpu-kernels';
import { defaultCaseRoots, findCaseFiles } from './discover.js';
import { loadAllRegistrations } from './load-registrations.js';
import { formatResult, formatSummary, runConformance } from './run.js';

const USAGE = 'usage: pnpm conformance [--backend <name>] [--quiet] [paths...]';

async function main(argv: string[]): Promise<number> {
  const paths: string[] = [];
  let backendName: string = process.env.FORMERS_BACKEND ?? 'reference';
  let quiet = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--backend') backendName = argv[++i] ?? '';
    else if (a.startsWith('--backend=')) backendName = a.slice('--backend='.length);
    else if (a === '--quiet') quiet = true;
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      return 0;
    } else if (a === '--') continue;
    else if (a.startsWith('--')) {
      console.error(`conformance: unknown option ${a}\n${USAGE}`);
      return 2;
    } else paths.push(a);
  }
  if (!isBackendName(backendName)) {
    console.error(`conformance: unknown backend ${JSON.stringify(backendName)}\n${USAGE}`);
    return 2;
  }
  const backend = await setBackend(backendName as BackendName);
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const files = findCaseFiles(paths.length ? paths.map((p) => resolve(cwd, p)) : defaultCaseRoots());
  if (files.length === 0) {
    console.error('conformance: no cases found');
    return 1;
  }
  await loadAllRegistrations();
  const report = await runConformance(files, backend, (r) => {
    if (!quiet || !r.pass) console.log(formatResult(r));
  });
  console.log(formatSummary(report));
  return report.failed > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    const msg = (e as Error).message ?? String(e);
    console.error(msg.startsWith('conformance: ') ? msg : `conformance: ${msg}`);
    process.exit(2);
  },
);
