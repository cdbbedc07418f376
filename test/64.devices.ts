// Device profiles: the shipped files conform to devices/schema.json, bad profiles are refused with every
// problem named, detection reads a (fake) /proc root, and `engram devices` reports which profile and why.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ProfileError,
  detectDevice,
  devicesDir,
  getProfile,
  loadProfiles,
  planProviders,
  resolveProfile,
  validateProfile,
} from '../src/devices/index.js';
import { fakeRoot } from './helpers/link-fake-root.js';

const REQUIRED = ['generic-x86_64', 'jetson-nano', 'jetson-orin-nano', 'raspberry-pi-4', 'raspberry-pi-5'];

const profiles = suite('profiles');

profiles('the shipped profiles all validate and cover the five boards', () => {
  const all = loadProfiles();
  assert.equal(
    all.map((p) => p.id),
    REQUIRED,
  );
  for (const p of all) {
    assert.is(p.executionProviders.at(-1), 'cpu', `${p.id} falls back to cpu`);
    assert.ok(p.threads >= 1 && p.memoryBudgetBytes >= 65536 && p.backbone.length > 0 && p.serial.baudRate > 0, p.id);
  }
});

function pi4(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(devicesDir(), 'raspberry-pi-4.json'), 'utf8'));
}

function refusedWith(mutate: (p: Record<string, unknown>) => void, ...patterns: RegExp[]): void {
  const p = pi4();
  mutate(p);
  let err: unknown;
  try {
    validateProfile(p, 'test profile');
  } catch (e) {
    err = e;
  }
  assert.instance(err, ProfileError, `expected a ProfileError for ${patterns.join(', ')}`);
  for (const re of patterns) assert.match((err as Error).message, re);
}

profiles('bad profiles are refused and the message names each problem', () => {
  refusedWith(
    (p) => (p.threads = '4'),
    /device profile test profile is invalid/,
    /threads: expected an integer in \[1, 256\], got string "4"/,
  );
  refusedWith((p) => (p.threads = 0), /threads: expected an integer in \[1, 256\], got number 0/);
  refusedWith(
    (p) => (p.executionProviders = ['cuda']),
    /executionProviders: expected "cpu" as the last entry \(the fallback\), got \["cuda"\]/,
  );
  refusedWith((p) => (p.executionProviders = ['cpu', 'cpu']), /expected no repeats/);
  refusedWith(
    (p) => (p.executionProviders = ['npu', 'cpu']),
    /executionProviders\[0\]: expected one of "tensorrt", "cuda", "webgpu", "xnnpack", "cpu", got string "npu"/,
  );
  refusedWith((p) => (p.thread = 4), /unknown field "thread" \(known: id, name, match/);
  refusedWith((p) => delete p.serial, /missing required field "serial"/);
  refusedWith(
    (p) => ((p.serial as Record<string, unknown>).baudRate = 12345),
    /serial.baudRate: expected one of 9600, .*, got number 12345/,
  );
  refusedWith((p) => ((p.match as Record<string, unknown>).arch = ['sparc']), /match.arch\[0\]: expected one of "arm", "arm64"/);
  refusedWith((p) => (p.supportedArch = ['x64']), /supportedArch: "x64" is not one of match.arch/);
  refusedWith((p) => (p.memoryBudgetBytes = 1.5e6 + 0.5), /memoryBudgetBytes: expected an integer/);
  // Several problems at once are all listed.
  refusedWith(
    (p) => {
      p.threads = -1;
      p.backbone = '';
      p.id = 'Pi 4';
    },
    /threads: expected/,
    /backbone: expected a non-empty string/,
    /id: expected a string matching/,
  );
});

profiles('a bad file in the folder is named; bad JSON is reported as such', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-devices-'));
  cpSync(devicesDir(), dir, { recursive: true });
  writeFileSync(join(dir, 'broken.json'), '{ "id": "broken", ');
  assert.throws(() => loadProfiles(dir), /device profile .*broken.json is invalid:\n {2}- not valid JSON/);
  writeFileSync(join(dir, 'broken.json'), JSON.stringify({ ...pi4(), id: 'other-name' }));
  assert.throws(() => loadProfiles(dir), /id: expected "broken" \(the file name\), got "other-name"/);
  rmSync(join(dir, 'broken.json'));
  assert.is(loadProfiles(dir).length, readdirSync(devicesDir()).filter((f) => f !== 'schema.json').length);
  rmSync(dir, { recursive: true, force: true });
});

profiles('getProfile names the known ids when the name is wrong', () => {
  assert.is(getProfile('jetson-nano').id, 'jetson-nano');
  assert.throws(
    () => getProfile('raspberry-pi-3'),
    /profile: expected one of generic-x86_64, jetson-nano, jetson-orin-nano, raspberry-pi-4, raspberry-pi-5, got string "raspberry-pi-3"/,
  );
});

profiles.run();

const detect = suite('detection from a fake root');

const boards: {
  name: string;
  arch: string;
  board: Parameters<typeof fakeRoot>[0];
  want: string | null;
  score?: number;
  reason?: RegExp;
  warning?: RegExp;
}[] = [
  {
    name: 'Pi 4 on a 64-bit OS',
    arch: 'arm64',
    board: { model: 'Raspberry Pi 4 Model B Rev 1.4', compatible: ['raspberrypi,4-model-b', 'brcm,bcm2711'] },
    want: 'raspberry-pi-4',
    score: 3,
    reason: /model "Raspberry Pi 4 Model B Rev 1.4" \(\/proc\/device-tree\/model\) contains "Raspberry Pi 4"/,
  },
  {
    name: 'Pi 4 seen only through /proc/cpuinfo',
    arch: 'arm64',
    board: { cpuinfo: 'processor\t: 0\nBogoMIPS\t: 108.00\n\nHardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B Rev 1.5\n' },
    want: 'raspberry-pi-4',
    score: 2,
    reason: /\(\/proc\/cpuinfo\) contains "Raspberry Pi 4"/,
  },
  {
    name: 'Pi 5 on a 32-bit OS gets a warning',
    arch: 'arm',
    board: { model: 'Raspberry Pi 5 Model B Rev 1.0', compatible: ['raspberrypi,5-model-b', 'brcm,bcm2712'] },
    want: 'raspberry-pi-5',
    warning: /reports arch arm, but engram runs there on arm64 only \(a 32-bit OS/,
  },
  {
    name: 'Jetson Nano (device tree under /sys)',
    arch: 'arm64',
    board: {
      model: 'NVIDIA Jetson Nano Developer Kit',
      compatible: ['nvidia,p3450-0000', 'nvidia,tegra210'],
      dtPath: 'sys/firmware/devicetree/base',
    },
    want: 'jetson-nano',
    score: 3,
  },
  {
    name: 'Jetson Orin Nano is not taken for a Jetson Nano',
    arch: 'arm64',
    board: {
      model: 'NVIDIA Jetson Orin Nano Developer Kit',
      compatible: ['nvidia,p3768-0000+p3767-0005', 'nvidia,p3767-0005', 'nvidia,tegra234'],
    },
    want: 'jetson-orin-nano',
    score: 3,
  },
  { name: 'a PC', arch: 'x64', board: {}, want: 'generic-x86_64', score: 1, reason: /generic profile: matched on architecture alone/ },
  {
    name: 'an unknown arm64 board',
    arch: 'arm64',
    board: { model: 'Pine64 RockPro64 v2.1' },
    want: null,
    reason: /no profile matches arch arm64 with model "Pine64 RockPro64 v2.1"; choose one with --profile/,
  },
];

for (const b of boards) {
  detect(`${b.name} -> ${b.want ?? 'no profile'}`, () => {
    const root = fakeRoot(b.board);
    try {
      const d = detectDevice({ root, arch: b.arch });
      assert.is(d.profile?.id ?? null, b.want);
      if (b.score !== undefined) assert.is(d.candidates.find((c) => c.id === b.want)!.score, b.score);
      if (b.reason)
        assert.ok(
          d.reasons.some((r) => b.reason!.test(r)),
          `reasons: ${d.reasons.join(' | ')}`,
        );
      if (b.warning)
        assert.ok(
          d.warnings.some((w) => b.warning!.test(w)),
          `warnings: ${d.warnings.join(' | ')}`,
        );
      else assert.equal(d.warnings, []);
      assert.is(
        d.candidates.filter((c) => c.matched && c.score === Math.max(...d.candidates.map((x) => x.score))).length,
        b.want ? 1 : 0,
        'one clear winner',
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}

detect('--profile overrides detection and warns when the machine does not fit', () => {
  const root = fakeRoot({});
  const r = resolveProfile({ root, arch: 'x64', profile: 'jetson-orin-nano' });
  assert.is(r.source, 'override');
  assert.is(r.profile!.id, 'jetson-orin-nano');
  assert.is(r.detection.profile!.id, 'generic-x86_64');
  assert.match(r.detection.warnings.join(), /profile jetson-orin-nano runs on arm64; this machine is x64/);
  assert.throws(() => resolveProfile({ root, arch: 'x64', profile: 'pi' }), /profile: expected one of/);
  rmSync(root, { recursive: true, force: true });
});

detect.run();

const providers = suite('execution provider plan');

providers('preferred providers are tried in order and cpu is the fallback', () => {
  const jetson = getProfile('jetson-nano');
  const armBuild = [{ name: 'cpu', bundled: true }];
  assert.equal(
    planProviders(jetson, armBuild, 'linux/arm64').map((s) => [s.provider, s.status]),
    [
      ['tensorrt', 'absent'],
      ['cuda', 'absent'],
      ['cpu', 'ready'],
    ],
  );
  assert.match(planProviders(jetson, armBuild, 'linux/arm64')[0].why, /not in this onnxruntime-node build \(linux\/arm64\): skipped/);
  const gpuBuild = [
    { name: 'cpu', bundled: true },
    { name: 'cuda', bundled: false },
    { name: 'tensorrt', bundled: false },
  ];
  assert.equal(
    planProviders(jetson, gpuBuild).map((s) => s.status),
    ['needs-libraries', 'needs-libraries', 'ready'],
  );
});

providers.run();

const cli = suite('engram devices');

function engram(...args: string[]) {
  return spawnSync(process.execPath, [join('bin', 'engram.js'), ...args], { encoding: 'utf8' });
}

cli('--json reports the detected profile, why, every candidate, and the JPEG decoder', async () => {
  const root = fakeRoot({ model: 'Raspberry Pi 5 Model B Rev 1.0', compatible: ['raspberrypi,5-model-b', 'brcm,bcm2712'] });
  const r = engram('devices', '--root', root, '--arch', 'arm64', '--json');
  rmSync(root, { recursive: true, force: true });
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines.length, 1, 'one JSON line');
  const out = JSON.parse(lines[0]);
  assert.is(out.profile, 'raspberry-pi-5');
  assert.is(out.source, 'detected');
  assert.ok(out.reasons.some((x: string) => /contains "Raspberry Pi 5"/.test(x)));
  assert.is(out.settings.serial.baudRate, 921600);
  assert.equal(out.settings.executionProviders, ['xnnpack', 'cpu']);
  assert.is(out.providers.at(-1).provider, 'cpu');
  assert.equal(
    out.profiles.map((c: { id: string }) => c.id),
    REQUIRED,
  );
  assert.is(out.profiles.filter((c: { matched: boolean }) => c.matched).length, 1);
  // Which JPEG decoder this build has: libjpeg when the addon was built with it, else sharp and how to fix it.
  const { loadBinding } = await import('../src/native/loader.js');
  const jpeg = loadBinding().jpeg();
  assert.is(out.images.fastJpeg, jpeg.available);
  assert.is(out.images.jpegDecoder, jpeg.available ? jpeg.version : 'sharp');
});

cli('the human listing marks the chosen profile; a wrong --profile exits 2 naming the choices', () => {
  const r = engram('devices', '--profile', 'jetson-nano');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /profile: jetson-nano \(override\): chosen with --profile/);
  assert.match(r.stdout, /\n \* jetson-nano /);
  assert.match(r.stdout, /provider cpu: ready/);
  assert.match(
    r.stdout,
    /\nimages: JPEG decoded by (libjpeg\S* .*\(fast path\)|sharp \(the addon was built without libjpeg: apt-get install libjpeg-dev)/,
  );
  const bad = engram('devices', '--profile', 'pi');
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /engram: profile: expected one of generic-x86_64, jetson-nano/);
});

cli.run();
