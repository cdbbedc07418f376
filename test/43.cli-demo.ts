// engram demo --json on a small test count: the summary's keys, closed-set and open-set accuracy, and
// per-class sizes that are consistent with each other.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { engram } from './helpers/learner-files.js';

const test = suite('engram demo');

test('--json ends with a summary naming both accuracies and honest sizes', () => {
  const r = engram(['demo', '--test', '30', '--json']);
  assert.is(r.status, 0, r.stderr);
  const s = r.lines.at(-1) as Record<string, number | string | number[]>;
  for (const key of [
    'top1_accuracy',
    'open_set_accuracy',
    'unknown_rate',
    'connections_per_class',
    'compressed_bytes_per_class',
    'serialized_bytes_per_class',
    'resident_bytes',
    'neurons',
    'classes',
    'shots',
    'test_per_class',
    'backbone',
    'top1_accuracy_by_classes',
    'open_set_accuracy_by_classes',
  ])
    assert.ok(key in s, `missing ${key}`);
  assert.not.ok('final_accuracy' in s || 'bytes_per_class' in s, 'the old, ambiguous names are gone');
  console.log(
    `demo: top-1 ${s.top1_accuracy}, open set ${s.open_set_accuracy}, unknown ${s.unknown_rate}, ${s.compressed_bytes_per_class} compressed bytes per class`,
  );
  assert.is(s.classes, 10);
  assert.is(s.test_per_class, 30);
  assert.is(s.backbone, 'engram-glyph');
  const top1 = s.top1_accuracy as number;
  const open = s.open_set_accuracy as number;
  const unknown = s.unknown_rate as number;
  assert.ok(top1 > 0.85, `top-1 accuracy ${top1}`);
  // An unknown answer can only turn a right top-1 into a wrong open-set answer.
  assert.ok(open <= top1 && open >= top1 - unknown - 1e-9, `open ${open}, top-1 ${top1}, unknown ${unknown}`);
  assert.ok(unknown >= 0 && unknown < 0.5);
  const neurons = s.neurons as number;
  assert.ok((s.connections_per_class as number) > 0 && (s.connections_per_class as number) <= neurons);
  // Compressed is at most the raw bits; serialized holds the bits and the counters.
  assert.ok((s.compressed_bytes_per_class as number) <= neurons / 8 + 1);
  assert.ok((s.serialized_bytes_per_class as number) >= neurons / 8);
  assert.ok((s.resident_bytes as number) >= ((s.classes as number) * neurons) / 8);
  assert.is((s.top1_accuracy_by_classes as number[]).length, 10);
});

test('a bad count is a usage error', () => {
  const r = engram(['demo', '--test', '0']);
  assert.is(r.status, 1);
  assert.match(r.stderr, /--test: expected a whole number from 1 to 800, got "0"/);
});

test.run();
