// Figures quoted in README.md and docs/*.md come from committed benchmark results (bench/results/*.json)
// through tools/docs-numbers.mjs, never by hand: the committed docs agree with the committed results, the
// check catches a figure that differs, an unknown or missing figure is an error, and the demo's committed
// result is what `engram demo --json` prints today.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, ROOT } from './helpers/learner-files.js';

interface Change {
  name: string;
  was: string;
  now: string;
}
interface DocsNumbers {
  run(o?: { root?: string; resultsDir?: string; write?: boolean }): { file: string; changes: Change[] }[];
  figureText(name: string, resultsDir: string): string;
  lookup(obj: unknown, path: string): unknown;
}
const tool = join(ROOT, 'tools', 'docs-numbers.mjs');
const dn = (await import(tool)) as DocsNumbers;
const results = join(ROOT, 'bench', 'results');
const work = mkdtempSync(join(tmpdir(), 'engram-docs-numbers-'));

/** A copy of README.md and docs/ to edit. */
function copyDocs(name: string): string {
  const root = join(work, name);
  mkdirSync(root);
  cpSync(join(ROOT, 'README.md'), join(root, 'README.md'));
  cpSync(join(ROOT, 'docs'), join(root, 'docs'), { recursive: true });
  return root;
}

const Docs = suite('quoted figures');

Docs('README and docs carry markers, and every marked figure equals bench/results', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const name of ['demo.top1', 'demo.open_set', 'demo.unknown', 'demo.compressed_bytes', 'demo.seconds']) {
    assert.ok(readme.includes(`<!-- n:${name} -->`), `README quotes ${name} through a marker`);
  }
  const report = dn.run({ write: false });
  assert.equal(report, [], `figures differ from bench/results (run "npm run docs:numbers"): ${JSON.stringify(report)}`);
  const cli = spawnSync(process.execPath, [tool, '--check'], { encoding: 'utf8' });
  assert.is(cli.status, 0, cli.stdout + cli.stderr);
});

Docs('a figure edited by hand is caught by --check and put back by a rewrite', () => {
  const root = copyDocs('edited');
  const readme = join(root, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const right = dn.figureText('demo.top1', results);
  writeFileSync(readme, text.replace(`<!-- n:demo.top1 -->${right}<!-- /n -->`, '<!-- n:demo.top1 -->99.9<!-- /n -->'));
  const report = dn.run({ root, resultsDir: results });
  assert.equal(report, [{ file: 'README.md', changes: [{ name: 'demo.top1', was: '99.9', now: right }] }]);
  dn.run({ root, resultsDir: results, write: true });
  assert.is(readFileSync(readme, 'utf8'), text);
});

Docs('a new result changes the quoted figure; unknown names and missing values are errors', () => {
  const root = copyDocs('rerun');
  const res = join(work, 'results');
  cpSync(results, res, { recursive: true });
  const demo = JSON.parse(readFileSync(join(res, 'demo.json'), 'utf8'));
  writeFileSync(join(res, 'demo.json'), JSON.stringify({ ...demo, compressed_bytes_per_class: 1234 }));
  const report = dn.run({ root, resultsDir: res });
  const changed = report.flatMap((r) => r.changes.map((c) => `${r.file} ${c.name} ${c.now}`));
  assert.ok(changed.includes('README.md demo.compressed_bytes 1,234'), changed.join('\n'));
  assert.ok(changed.includes('docs/cli.md demo.compressed_bytes 1,234'), changed.join('\n'));

  writeFileSync(join(root, 'docs', 'extra.md'), 'x <!-- n:demo.top_one -->1<!-- /n -->\n');
  assert.throws(() => dn.run({ root, resultsDir: results }), /unknown figure "demo\.top_one"/);
  rmSync(join(root, 'docs', 'extra.md'));
  writeFileSync(join(res, 'demo.json'), JSON.stringify({ ...demo, top1_accuracy: undefined }));
  assert.throws(() => dn.run({ root, resultsDir: res }), /figure "demo\.top1": demo\.json has no number at top1_accuracy/);
  assert.is(
    dn.lookup(
      {
        a: [
          { name: 'x', v: 1 },
          { name: 'y', v: 2 },
        ],
      },
      'a[name=y].v',
    ),
    2,
  );
});

Docs('bench/results/demo.json is what engram demo --json prints now', () => {
  const committed = JSON.parse(readFileSync(join(results, 'demo.json'), 'utf8')) as Record<string, unknown>;
  const r = spawnSync(process.execPath, [BIN, 'demo', '--json'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const now = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  // The accuracy and the sizes are deterministic (seeded); times are not.
  for (const k of [
    'top1_accuracy',
    'open_set_accuracy',
    'unknown_rate',
    'connections_per_class',
    'compressed_bytes_per_class',
    'serialized_bytes_per_class',
    'resident_bytes',
    'shots',
    'classes',
    'backbone',
  ]) {
    assert.equal(
      now[k],
      committed[k],
      `${k}: a run gives ${JSON.stringify(now[k])}, demo.json says ${JSON.stringify(committed[k])} (run "npm run bench:demo && npm run docs:numbers")`,
    );
  }
});

Docs.run();
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
