// The web page of `engram serve --http` in a real browser: Debian's chromium, headless, driven by
// playwright-core. The device's camera is the server's own source (MJPEG frames the test writes to its
// stdin, so the test decides what the camera sees); the browser's camera is chromium's fake capture device
// fed a .y4m made by ffmpeg. Teaches two classes from the page and watches the live answer change.
// Screenshots go to $ENGRAM_SCREENSHOTS (default: a temporary folder); the README's come from this test.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { haveFfmpeg, shapeJpeg, shapeVideo, type Shape } from './helpers/live-media.js';
import { serve, type Served } from './helpers/http-server.js';

const work = mkdtempSync(join(tmpdir(), 'engram-web-'));
process.env.ENGRAM_MODELS_DIR = join(work, 'no-models');
const shots = resolve(process.env.ENGRAM_SCREENSHOTS ?? join(work, 'screenshots'));
mkdirSync(shots, { recursive: true });
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Chromium with a fresh profile folder (playwright passes it as --user-data-dir). */
async function launch(extra: string[] = []): Promise<BrowserContext> {
  const profile = mkdtempSync(join(work, 'profile-'));
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...FLAGS, ...extra],
    viewport: { width: 1200, height: 800 },
  });
}

/** Writes the JPEG of the current shape to the server's stdin 10 times a second: the device's camera. */
function camera(srv: Served) {
  const jpegs = { hbar: shapeJpeg('hbar'), vbar: shapeJpeg('vbar'), box: shapeJpeg('box') } as Record<Shape, Buffer>;
  let shape: Shape = 'box';
  const timer = setInterval(() => srv.proc.stdin!.write(jpegs[shape]), 100);
  return {
    show(s: Shape) {
      shape = s;
    },
    stop() {
      clearInterval(timer);
      srv.proc.stdin!.end();
    },
  };
}

async function answerBecomes(page: Page, label: string): Promise<void> {
  await page.waitForFunction((l) => document.getElementById('answer')?.textContent === l, label, { timeout: 20_000 });
}

const Page_ = suite('the web page in chromium');
const ready = haveFfmpeg() && existsSync(CHROMIUM);

Page_('chromium and ffmpeg are installed (.ci/run installs them)', () => {
  assert.ok(existsSync(CHROMIUM), 'no /usr/bin/chromium: apt-get install chromium');
  assert.ok(haveFfmpeg(), 'ffmpeg is not on the PATH: apt-get install ffmpeg');
});

Page_('teach two classes from the page with the device camera and see the live answer change', async () => {
  if (!ready) return;
  const srv = await serve(['--store', join(work, 'store'), '--watch', '-'], { stdin: 'pipe' });
  const cam = camera(srv);
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('requestfailed', (r) => {
      if (!new URL(r.url()).pathname.startsWith('/api/live')) errors.push(`request failed: ${r.url()}`);
    });
    await page.goto(`${srv.url}#token=${srv.token}`);
    // The token moves from the address into the page and out of the address bar.
    assert.is(new URL(page.url()).hash, '');
    assert.is(await page.inputValue('#token'), srv.token);
    await page.waitForFunction(() => (document.getElementById('live') as HTMLImageElement).naturalWidth > 0, null, { timeout: 20_000 });
    assert.is(await page.textContent('#answer'), 'unknown', 'nothing is taught yet');
    assert.ok(await page.isVisible('#noclasses'));
    await page.screenshot({ path: join(shots, 'page-empty.png') });

    for (const shape of ['hbar', 'vbar'] as const) {
      cam.show(shape);
      await page.waitForTimeout(500); // the camera now shows the shape
      await page.fill('#newlabel', shape);
      await page.click('#addform button[type=submit]');
      await page.waitForSelector(`#classlist tr[data-label="${shape}"] td.count`, { timeout: 20_000 });
      assert.is(await page.textContent(`#classlist tr[data-label="${shape}"] td.count`), '5');
      assert.match((await page.textContent('#message')) ?? '', new RegExp(`learned 5 examples of ${shape}`));
    }
    await answerBecomes(page, 'vbar');
    const top = await page.$$eval('#top li > span:first-child', (els) => els.map((e) => e.textContent));
    assert.equal(top, ['vbar', 'hbar']);
    await page.waitForTimeout(600); // the view catches up with the answer
    await page.screenshot({ path: join(shots, 'page-vbar.png') });
    cam.show('hbar');
    await answerBecomes(page, 'hbar');
    await page.waitForTimeout(600); // the view catches up with the answer
    await page.screenshot({ path: join(shots, 'page-hbar.png') });

    // One more capture from the class's own button adds examples.
    await page.click('#classlist tr[data-label="hbar"] button.capture');
    await page.waitForFunction(() => document.querySelector('#classlist tr[data-label="hbar"] td.count')?.textContent === '10', null, {
      timeout: 20_000,
    });

    // Each class shows what it costs in bytes.
    for (const shape of ['hbar', 'vbar'])
      assert.match((await page.textContent(`#classlist tr[data-label="${shape}"] td.bytes`)) ?? '', /^\d+(\.\d)? (B|KB)$/);

    // Evaluate a folder of labelled images: the confusion matrix appears on the page.
    const evalDir = join(work, 'evalset');
    for (const shape of ['hbar', 'vbar', 'box'] as const) {
      mkdirSync(join(evalDir, shape), { recursive: true });
      writeFileSync(join(evalDir, shape, `${shape}-1.jpg`), shapeJpeg(shape));
    }
    await page.setInputFiles('#evalfiles', evalDir);
    await page.click('#evalform button[type=submit]');
    await page.waitForFunction(() => (document.getElementById('confusion') as HTMLImageElement).naturalWidth > 0, null, {
      timeout: 20_000,
    });
    assert.match((await page.textContent('#evalsummary')) ?? '', /^top-1 100\.0% \(2\/2\), open set /);
    assert.match((await page.textContent('#message')) ?? '', /evaluated 3 images/);
    await page.locator('#confusion').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'page-eval.png'), fullPage: true });

    // Stats show the memory; prune and forget work from the page.
    assert.match((await page.textContent('#stats')) ?? '', /classes2/);
    await page.click('#pruneform button');
    await page.waitForFunction(() => /pruned \d+ connections/.test(document.getElementById('message')?.textContent ?? ''), null, {
      timeout: 20_000,
    });
    page.once('dialog', (d) => d.accept());
    await page.click('#classlist tr[data-label="vbar"] button.forget');
    await page.waitForFunction(() => !document.querySelector('#classlist tr[data-label="vbar"]'), null, { timeout: 20_000 });
    assert.equal(errors, []);
  } finally {
    await browser.close();
    cam.stop();
    await srv.stop();
  }
});

Page_('without the token the page says why it cannot teach, and nothing is learned', async () => {
  if (!ready) return;
  const srv = await serve(['--store', join(work, 'store2'), '--watch', '-'], { stdin: 'pipe' });
  const cam = camera(srv);
  const browser = await launch();
  try {
    const page = await browser.newPage();
    await page.goto(srv.url);
    await page.fill('#token', '');
    await page.fill('#newlabel', 'box');
    await page.click('#addform button[type=submit]');
    await page.waitForSelector('#message.error');
    assert.match((await page.textContent('#message')) ?? '', /needs "Authorization: Bearer <token>"/);
    assert.ok(await page.isVisible('#noclasses'));
  } finally {
    await browser.close();
    cam.stop();
    await srv.stop();
  }
});

Page_("teach from the browser's own camera (chromium's fake capture device)", async () => {
  if (!ready) return;
  const video = shapeVideo(work, 'vbar', { seconds: 2, name: 'vbar-src.avi' });
  const y4m = join(work, 'vbar.y4m');
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', video, '-pix_fmt', 'yuv420p', '-s', '640x480', y4m]);
  assert.is(r.status, 0, r.stderr?.toString());
  const srv = await serve(['--store', join(work, 'store3')]);
  const browser = await launch([
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-video-capture=${y4m}`,
  ]);
  try {
    const page = await browser.newPage();
    await page.goto(`${srv.url}#token=${srv.token}`);
    // Shown once the page has asked /api/health: wait for it rather than race the page's first request.
    await page.waitForSelector('#nosource', { state: 'visible', timeout: 20_000 });
    await page.click('#usewebcam');
    await page.waitForFunction(() => (document.getElementById('webcam') as HTMLVideoElement).videoWidth > 0, null, { timeout: 20_000 });
    await page.fill('#newlabel', 'vbar');
    await page.click('#addform button[type=submit]');
    await page.waitForSelector('#classlist tr[data-label="vbar"]', { timeout: 20_000 });
    assert.is(await page.textContent('#classlist tr[data-label="vbar"] td.count'), '5');
    await page.waitForFunction(() => (document.getElementById('top')?.textContent ?? '').includes('vbar'), null, { timeout: 20_000 });
    await page.waitForTimeout(600); // the view catches up with the answer
    await page.screenshot({ path: join(shots, 'page-webcam.png') });
  } finally {
    await browser.close();
    await srv.stop();
  }
});

Page_.run();
