// engram sync to a broker that takes TLS only and checks a user name and password (Mosquitto with a test CA
// made here by openssl): with the CA and the right password two devices converge; with a wrong password the
// device never connects and says why; without the CA the TLS handshake is refused. A second Mosquitto requires
// a client certificate (require_certificate): with one signed by the CA the devices sync, without it the
// device is refused at once and told to give --cert and --key.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engram } from '../src/learner/engram.js';
import { BIN, engram } from './helpers/learner-files.js';
import { freePort, mosquittoPath, sleep, until } from './helpers/fleet-broker.js';

const test = suite('engram sync with TLS and a password');
const bin = mosquittoPath();
const openssl = spawnSync('openssl', ['version']).error === undefined;
const work = mkdtempSync(join(tmpdir(), 'engram-97-'));
const DIM = 16;
const stores = ['a', 'b'].map((n) => join(work, n));
let broker: ChildProcess | null = null;
let port = 0;
let certBroker: ChildProcess | null = null;
let certPort = 0;
const children: ChildProcess[] = [];

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { cwd: work, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

function sync(store: string, extra: string[], at = port): { child: ChildProcess; out: () => string; err: () => string } {
  const child = spawn(
    process.execPath,
    [
      BIN,
      'sync',
      '--json',
      '--store',
      store,
      '--broker',
      `mqtts://localhost:${at}`,
      '--fleet',
      'tls',
      '--allow',
      join(work, 'allow.txt'),
      '--interval',
      '100',
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  children.push(child);
  return { child, out: () => out, err: () => err };
}

test.before(async () => {
  if (!bin || !openssl) return;
  const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('openssl', ['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=engram test CA']);
  /** A key and a certificate signed by the CA: `<name>.key`, `<name>.pem`. */
  const signed = (name: string, subject: string, extfile?: string) => {
    run('openssl', ['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
    const ext = extfile ? ['-extfile', extfile] : [];
    run('openssl', [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      ...ext,
    ]);
  };
  writeFileSync(join(work, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  signed('server', '/CN=localhost', 'san.ext');
  // A client certificate for the stations, signed by the same CA.
  signed('client', '/CN=station');
  run('mosquitto_passwd', ['-b', '-c', join(work, 'passwd'), 'station', 's3cret']);
  // Started as root, mosquitto drops to its own user before it reads the key: let that user read the test files.
  chmodSync(work, 0o755);
  for (const f of ['server.key', 'server.pem', 'ca.pem', 'passwd']) chmodSync(join(work, f), 0o644);
  port = await freePort();
  writeFileSync(
    join(work, 'mosquitto.conf'),
    `listener ${port} 127.0.0.1\ncafile ${join(work, 'ca.pem')}\ncertfile ${join(work, 'server.pem')}\nkeyfile ${join(work, 'server.key')}\nallow_anonymous false\npassword_file ${join(work, 'passwd')}\npersistence false\n`,
  );
  writeFileSync(join(work, 'right.txt'), 's3cret\n');
  writeFileSync(join(work, 'wrong.txt'), 'guess\n');
  broker = spawn(bin, ['-c', join(work, 'mosquitto.conf')], { stdio: 'ignore' });
  certPort = await freePort();
  writeFileSync(
    join(work, 'mosquitto-cert.conf'),
    `listener ${certPort} 127.0.0.1\ncafile ${join(work, 'ca.pem')}\ncertfile ${join(work, 'server.pem')}\nkeyfile ${join(work, 'server.key')}\nrequire_certificate true\nuse_identity_as_username true\nallow_anonymous false\npersistence false\n`,
  );
  certBroker = spawn(bin, ['-c', join(work, 'mosquitto-cert.conf')], { stdio: 'ignore' });
  await sleep(500);
  const lines: string[] = [];
  for (const [i, s] of stores.entries()) {
    const e = await Engram.open({ store: s, quantizer: { dim: DIM, neurons: 256, k: 16, whiten: 'off' }, backbone: null });
    await e.learn(`c${i}`, [Float32Array.from({ length: DIM }, (_, j) => Math.sin(j * (i + 1)))]);
    await e.close();
    lines.push(engram(['sync', '--store', s, '--print-key']).stdout.trim());
  }
  writeFileSync(join(work, 'allow.txt'), `${lines.join('\n')}\n`);
});

test.after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  broker?.kill('SIGTERM');
  certBroker?.kill('SIGTERM');
  await sleep(200);
  rmSync(work, { recursive: true, force: true });
});

if (!bin || !openssl) {
  console.log(`SKIP 97.fleet-tls: ${!bin ? 'mosquitto' : 'openssl'} is not installed`);
} else {
  test('with the CA and the right password two devices converge over TLS', async () => {
    const auth = ['--ca', join(work, 'ca.pem'), '--username', 'station', '--password-file', join(work, 'right.txt')];
    const a = sync(stores[0], auth);
    const b = sync(stores[1], auth);
    await until(
      'both devices to hear of the other',
      () => /"event":"applied".*"c1"/.test(a.out()) && /"event":"applied".*"c0"/.test(b.out()),
    );
    for (const p of [a, b]) {
      p.child.kill('SIGTERM');
      await new Promise((r) => p.child.once('exit', r));
    }
    for (const s of stores) assert.is(engram(['stats', '--store', s, '--json']).lines[0].classes, 2);
  });

  test('a wrong password never connects, and says why', async () => {
    const p = sync(stores[0], ['--ca', join(work, 'ca.pem'), '--username', 'station', '--password-file', join(work, 'wrong.txt')]);
    await until('the refusal', () => /Not authorized|Bad User Name or Password/i.test(p.err()), 10_000);
    assert.not.match(p.out(), /"event":"connected"/);
    p.child.kill('SIGTERM');
    await new Promise((r) => p.child.once('exit', r));
  });

  test('without the CA the broker certificate is not trusted', async () => {
    const p = sync(stores[0], ['--username', 'station', '--password-file', join(work, 'right.txt')]);
    await until('the TLS refusal', () => /self[- ]signed|unable to verify|certificate/i.test(p.err()), 10_000);
    assert.not.match(p.out(), /"event":"connected"/);
    p.child.kill('SIGTERM');
    await new Promise((r) => p.child.once('exit', r));
  });

  test('a broker that requires a client certificate: with it the devices sync', async () => {
    // A class a learns while no sync runs reaches b through the broker that checks certificates.
    const e = await Engram.open({ store: stores[0], backbone: null });
    await e.learn('c9', [Float32Array.from({ length: DIM }, (_, j) => Math.cos(j * 7))]);
    await e.close();
    const tls = ['--ca', join(work, 'ca.pem'), '--cert', join(work, 'client.pem'), '--key', join(work, 'client.key')];
    const a = sync(stores[0], tls, certPort);
    const b = sync(stores[1], tls, certPort);
    await until('b to apply the class a learned', () => /"event":"applied".*"c9"/.test(b.out()));
    for (const p of [a, b]) {
      assert.not.match(p.err(), /warning/);
      p.child.kill('SIGTERM');
      await new Promise((r) => p.child.once('exit', r));
    }
    for (const s of stores) assert.is(engram(['stats', '--store', s, '--json']).lines[0].classes, 3);
  });

  test('without the client certificate the device is refused at once and told what to give', async () => {
    const started = Date.now();
    const p = sync(stores[0], ['--ca', join(work, 'ca.pem')], certPort);
    await until('the refusal', () => /requires a client certificate: give --cert and --key/.test(p.err()), 10_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${p.err()} ${p.out()}`);
    });
    assert.ok(Date.now() - started < 10_000);
    await sleep(1500);
    // Said once, not at every reconnect.
    assert.is(p.err().match(/requires a client certificate/g)!.length, 1, p.err());
    assert.not.match(p.out(), /"event":"connected"/);
    p.child.kill('SIGTERM');
    await new Promise((r) => p.child.once('exit', r));
  });
}

test.run();
