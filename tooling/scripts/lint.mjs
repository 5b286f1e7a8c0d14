// A small house lint: kebab-case file names, no default exports, no deep imports into sibling packages' src.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, basename } from 'node:path';

const roots = process.argv.slice(2);
const problems = [];
function walk(dir) {
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) { walk(p); continue; }
    if (!/\.(ts|mts|cts)$/.test(entry)) continue;
    const stem = basename(entry).replace(/\.(d\.)?(test\.)?[mc]?ts$/, '');
    if (!/^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9-]+)*$/.test(stem)) problems.push(`${p}: file name is not kebab-case`);
    const text = readFileSync(p, 'utf8');
    if (/^export default /m.test(text)) problems.push(`${p}: default export (use named exports)`);
    if (/from ['"](\.\.\/){2,}[a-z-]+\/src/.test(text) || /from ['"]@formers\/[a-z-]+\/src/.test(text))
      problems.push(`${p}: deep import into another package's src`);
  }
}
for (const r of roots) walk(r);
if (problems.length) { console.error(problems.join('\n')); process.exit(1); }
console.log(`lint: ${roots.join(', ')} clean`);
