// The package root as a user imports it: `import { Engram } from 'engram'` (Node resolves the package's own
// name through package.json "exports" to dist/src/index.js), then learn and predict real MNIST images.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadMnist, indicesByClass, imageAt } from '../src/datasets/idx.js';

type Root = typeof import('../src/index.js');
// A variable keeps tsc from resolving the package by name at build time (dist/ may not exist yet then).
const pkg = 'engram';

const test = suite('package root');

test('exports Engram, its defaults and the memory, and they are the same classes the modules define', async () => {
  const root = (await import(pkg)) as Root;
  const own = await import('../src/learner/engram.js');
  assert.type(root.Engram, 'function');
  assert.is(root.Engram, own.Engram, 'one class, not a copy');
  assert.is(root.DEFAULT_BACKBONE, 'engram-glyph');
  assert.is(root.QUANTIZER_DEFAULTS.pq.parts, 32);
  assert.type(root.BinaryMemory, 'function');
});

test('an Engram opened from the package root learns digits and predicts held-out ones', async () => {
  const { Engram } = (await import(pkg)) as Root;
  const train = loadMnist('train');
  const held = loadMnist('test');
  const trainBy = indicesByClass(train);
  const heldBy = indicesByClass(held);
  const engram = await Engram.memory({ backbone: 'engram-glyph' });
  try {
    for (const d of [0, 1, 2]) {
      const r = await engram.learn(
        String(d),
        trainBy
          .get(d)!
          .slice(0, 15)
          .map((i) => imageAt(train, i)),
      );
      assert.is(r.stored, 15);
    }
    let correct = 0;
    for (const d of [0, 1, 2]) {
      const preds = await engram.predict(
        heldBy
          .get(d)!
          .slice(0, 20)
          .map((i) => imageAt(held, i)),
        { top: 1 },
      );
      correct += preds.filter((p) => p.top[0].label === String(d)).length;
    }
    assert.ok(correct >= 51, `${correct}/60 held-out digits right (chance 20)`);
    const s = engram.stats();
    assert.is(s.classes, 3);
    assert.is(s.backbone, 'engram-glyph');
  } finally {
    await engram.close();
  }
});

test.run();
