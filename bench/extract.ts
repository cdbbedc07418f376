// Extracts and caches the benchmark features for every available backbone (all.ts does this too; this
// script lets the slow step run alone). Usage: node dist/bench/extract.js [--quick]
import { BACKBONES, features } from './lib/features.js';
import { sizes } from './lib/config.js';

const s = sizes(process.argv.includes('--quick'));
const log = (m: string) => process.stderr.write(`${m}\n`);
for (const bb of BACKBONES) {
  for (const ds of ['mnist', 'fashion'] as const) {
    if (!(await features(bb, ds, 'train', s.train, s.seed, log))) break;
    await features(bb, ds, 'test', s.test, s.seed, log);
  }
}
console.log(JSON.stringify({ done: true }));
