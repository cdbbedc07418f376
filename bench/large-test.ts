// A check of the #6 targets on a larger test sample than `npm run bench` uses: Split-MNIST and
// Split-Fashion-MNIST with MobileNetV2 features, 500 test images per class (5,000 per dataset; the published
// run's 100 per class are the first 100 of them), for the methods the targets compare. About 8 minutes with
// cached training features (kNN dominates). Prints one line per result on stderr and one JSON object per
// dataset on stdout. Usage: node dist/bench/large-test.js [perClass]
import { BACKBONES, features } from './lib/features.js';
import { accuracy, pick, runIncremental, select, splitTasks, type Rows } from './lib/protocol.js';
import { codebookFor, EngramMethod } from './lib/engram-method.js';
import { LINEAR, TINY_SHARE, UNITS_PROBES, UNITS_VOTE, tinyTopK, unitsCodebook } from './lib/methods.js';
import { KNearest, LinearSoftmax, NearestClassMean } from '../src/baselines/index.js';
import { featureStats } from '../src/quantize/quantizer.js';
import type { Learner } from './lib/protocol.js';

const perClass = Number(process.argv[2] ?? 500);
const log = (m: string) => process.stderr.write(`${m}\n`);

for (const ds of ['mnist', 'fashion'] as const) {
  const tr = await features(BACKBONES[0], ds, 'train', 500, 7, log);
  const other = await features(BACKBONES[0], ds === 'mnist' ? 'fashion' : 'mnist', 'train', 500, 7, log);
  const te = await features(BACKBONES[0], ds, 'test', perClass, 7, log);
  if (!tr || !te || !other) throw new Error('MobileNetV2 int8 is not available: set ENGRAM_SHARED_MODELS');
  const train: Rows = { dim: tr.dim, features: tr.features, labels: tr.labels };
  const test: Rows = { dim: te.dim, features: te.features, labels: te.labels };
  const tasks = splitTasks([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 2);
  const first = select(train, tasks[0]).features;
  const out: Record<string, number> = {};
  const split = (name: string, m: Learner) => {
    out[name] = runIncremental(m, train, test, tasks).finalAccuracy;
    log(`${ds} ${name}: ${(100 * out[name]).toFixed(1)}`);
  };
  split('ncm', new NearestClassMean(tr.dim));
  split('knn5', new KNearest(tr.dim, 5));
  const units = codebookFor(`${ds}/task0`, first, tr.dim, unitsCodebook(tr.dim), 1);
  split(
    'engram-units',
    new EngramMethod(units, { deployment: 'units', probes: UNITS_PROBES, minCount: 1, refine: false, vote: UNITS_VOTE }),
  );
  // Out-of-domain codebook: 2,000 rows of the other dataset's training sample taken as bench/all.ts takes them.
  const otherRows: Rows = { dim: other.dim, features: other.features, labels: other.labels };
  const step = Math.max(1, Math.floor(other.count / 2000));
  const ood = pick(
    otherRows,
    Array.from({ length: Math.min(2000, Math.floor(other.count / step)) }, (_, i) => i * step),
  ).features;
  const unitsOod = codebookFor(`${ds}/ood`, ood, tr.dim, unitsCodebook(tr.dim), 1);
  split(
    'engram-units-ood',
    new EngramMethod(unitsOod, { deployment: 'units', probes: UNITS_PROBES, minCount: 1, refine: false, vote: UNITS_VOTE }),
  );
  const topk = tinyTopK(tr.dim, featureStats(first, tr.dim));
  split(
    'engram-tiny-topk',
    new EngramMethod(topk, { deployment: 'pruned', probes: 1, minCount: 1, refine: false, counterBits: 8, share: TINY_SHARE }),
  );
  const joint = new LinearSoftmax(tr.dim, LINEAR, 'linear-joint');
  joint.learn(train.features, train.labels);
  out['linear-joint'] = accuracy(joint.predict(test.features), test.labels);
  log(`${ds} linear-joint: ${(100 * out['linear-joint']).toFixed(1)}`);
  console.log(JSON.stringify({ dataset: ds, testPerClass: perClass, accuracy: out }));
}
