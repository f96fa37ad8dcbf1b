/**
 * `npm run bench [-- <scenario...>] [--json]`: runs the named benchmark scenarios (all when
 * none is named). A scenario is any bench/<name>.ts (other than this file and report.ts)
 * exporting `run(reporter, argv)`.
 */
import { readdirSync } from 'node:fs';
import { createReporter, type Reporter } from './report.ts';

type Scenario = { run(reporter: Reporter, argv: string[]): Promise<void> };

const here = new URL('.', import.meta.url);
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'main.ts' && f !== 'report.ts')
  .map((f) => f.slice(0, -3))
  .sort();

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const names = argv.filter((a) => !a.startsWith('-') && available.includes(a));
const unknown = argv.filter((a) => !a.startsWith('-') && !available.includes(a) && !/^\d/.test(a));
if (unknown.length > 0 && names.length === 0) {
  console.error(`Unknown benchmark "${unknown[0]}": expected one of ${available.join(', ')}`);
  process.exit(2);
}
const reporter = createReporter(json);
for (const name of names.length ? names : available) {
  const scenario = (await import(new URL(`./${name}.ts`, here).href)) as Scenario;
  await scenario.run(reporter, argv);
}
process.exit(0);
