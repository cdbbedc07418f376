// docs/cli.md's command reference is generated from the commands' own definitions (src/cli/reference.ts,
// npm run docs:cli): the committed file equals a fresh rendering, it names every command, subcommand and
// option commander knows, and an edit by hand is caught and put back.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Command } from 'commander';
import { ROOT } from './helpers/learner-files.js';
import { BEGIN, END, cliReference, renderReference, spliceReference } from '../src/cli/reference.js';
import { buildProgram } from '../src/cli/main.js';
import { CliContext } from '../src/cli/context.js';

const docPath = join(ROOT, 'docs', 'cli.md');
const Ref = suite('docs/cli.md command reference');

async function program(): Promise<Command> {
  const p = new Command('engram');
  await buildProgram(new CliContext(() => ({ json: false, quiet: true })), p);
  return p;
}

/** Every command below the root, depth first, with the words that call it. */
function walk(cmd: Command, prefix = 'engram'): { name: string; cmd: Command }[] {
  return cmd.commands
    .filter((c) => c.name() !== 'help')
    .flatMap((c) => [{ name: `${prefix} ${c.name()}`, cmd: c }, ...walk(c, `${prefix} ${c.name()}`)]);
}

Ref('the committed docs/cli.md equals a fresh rendering (else: npm run docs:cli)', async () => {
  const doc = readFileSync(docPath, 'utf8');
  assert.is(spliceReference(doc, await cliReference()), doc, 'docs/cli.md is out of date: run "npm run docs:cli" and commit it');
  const check = spawnSync(process.execPath, [join(ROOT, 'tools', 'docs-cli.mjs'), '--check'], { encoding: 'utf8' });
  assert.is(check.status, 0, check.stderr);
});

Ref('every command, subcommand and option has its place in the reference', async () => {
  const p = await program();
  const doc = readFileSync(docPath, 'utf8');
  const ref = doc.slice(doc.indexOf(BEGIN), doc.indexOf(END));
  const commands = walk(p);
  assert.ok(commands.length >= 16, `only ${commands.length} commands found`);
  for (const { name, cmd } of commands) {
    const heading = new RegExp(`^#{3,5} ${name}$`, 'm').exec(ref);
    assert.ok(heading, `no section for ${name}`);
    // The section runs to the next heading of any command.
    const rest = ref.slice(heading.index + heading[0].length);
    const next = rest.search(/^#{3,5} engram /m);
    const body = next < 0 ? rest : rest.slice(0, next);
    for (const o of cmd.options) {
      if (o.hidden) continue;
      assert.ok(body.includes(`\`${o.flags.replace(/\|/g, '\\|')}`), `${name}: option ${o.flags} is missing from its section`);
    }
  }
  // The options the issue found missing from the hand-written page.
  for (const flag of ['--share', '--units', '--vote', '--two-sided']) assert.ok(ref.includes(`\`${flag}`), flag);
});

Ref('an edit by hand is caught by --check and put back; a page without the markers is refused', async () => {
  const doc = readFileSync(docPath, 'utf8');
  const fresh = renderReference(await program());
  const edited = doc.replace('| remove connections:', '| delete connections:');
  assert.is.not(edited, doc);
  assert.is(spliceReference(edited, fresh), doc);
  assert.throws(() => spliceReference('# no markers\n', fresh), /expected the markers/);
});

Ref.run();
