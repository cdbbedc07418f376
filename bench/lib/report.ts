// The Markdown form of a benchmark report (bench/results/results.md), from the object all.ts writes as JSON.
import type { IncrementalResult } from './protocol.js';

interface Split extends IncrementalResult {
  bytesPerClass: number;
  compressedBytesPerClass?: number;
  sharedBytes?: number;
  memoryLearnMicros?: number;
  memoryPredictMicros?: number;
}
interface MethodResult {
  name: string;
  codebook?: string;
  split: Split;
  stream: Record<string, number>;
}
interface DatasetResult {
  results: MethodResult[];
  budget: { budgetBytesPerClass: number; compressedBytesPerClass: number; density: number; accuracy: number }[];
  geometry: { parts: number; anchors: number; bytesPerClass: number; compressedBytesPerClass: number; accuracy: number }[];
}
interface Stage {
  backbone: number;
  encode: number;
  memory: number;
  total: number;
}

const pct = (a: number) => (Number.isFinite(a) ? (100 * a).toFixed(1) : '-');
const int = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '-' : Math.round(n).toLocaleString('en-US'));
const us = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '-' : n < 10 ? n.toFixed(2) : n.toFixed(0));

export function markdownReport(r: Record<string, unknown>): string {
  const m = r.machine as Record<string, string | number>;
  const out: string[] = [];
  out.push(`# engram benchmark results${r.quick ? ' (--quick)' : ''}`, '');
  out.push(
    `${String(r.date)}, seed ${String(r.seed)}, ${m.cpu} (${m.cores} cores, ${m.memoryGiB} GiB), ${m.os}, Node ${m.node}, onnxruntime-node ${m.onnxruntime}, engram ${m.engram} (${m.commit}); ${String(r.seconds)} s.`,
  );
  const sz = r.sizes as Record<string, number>;
  out.push(
    '',
    `Samples: ${sz.train} training and ${sz.test} test images per class (seeded), ${sz.episodes} episodes per few-shot setting. Engram: ${JSON.stringify(r.engram)}.`,
  );
  for (const [bb, v] of Object.entries(r.backbones as Record<string, Record<string, unknown>>)) {
    for (const ds of ['mnist', 'fashion']) {
      const d = v[ds] as DatasetResult | undefined;
      if (!d) continue;
      const title = ds === 'mnist' ? 'MNIST' : 'Fashion-MNIST';
      out.push('', `## ${title}, ${bb} (${String(v.dim)}-d features)`, '');
      out.push(
        'Split = class-incremental, 5 tasks of 2 classes: final accuracy on all 10 classes, average forgetting, accuracy on all classes seen after each task. Stream = classes one at a time with n examples each, final accuracy.',
        '',
      );
      out.push(
        '| method | Split final | forgetting | after each task | bytes/class | compressed | learn us/ex | query us/ex | stream 1 | 5 | 10 | 50 | all |',
      );
      out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
      for (const x of d.results) {
        const s = x.split;
        const st = x.stream;
        const mem = s.memoryLearnMicros !== undefined ? ` (memory ${us(s.memoryLearnMicros)})` : '';
        const memq = s.memoryPredictMicros !== undefined ? ` (memory ${us(s.memoryPredictMicros)})` : '';
        out.push(
          `| ${x.name} | ${pct(s.finalAccuracy)} | ${pct(s.forgetting)} | ${s.seenAccuracy.map(pct).join(' / ')} | ${int(s.bytesPerClass)}${s.sharedBytes ? ` + ${int(s.sharedBytes)} shared` : ''} | ${int(s.compressedBytesPerClass)} | ${us(s.learnMicros)}${mem} | ${us(s.predictMicros)}${memq} | ${pct(st['1'])} | ${pct(st['5'])} | ${pct(st['10'])} | ${pct(st['50'])} | ${pct(st.all)} |`,
        );
      }
      out.push(
        '',
        'Accuracy vs memory budget (all 10 classes learned with counters, then pruned to the budget; compressed = entropy bound of the bit matrix):',
        '',
      );
      out.push('| budget B/class | compressed B/class | density | accuracy |', '|---|---|---|---|');
      for (const p of d.budget)
        out.push(`| ${p.budgetBytesPerClass} | ${int(p.compressedBytesPerClass)} | ${p.density.toFixed(3)} | ${pct(p.accuracy)} |`);
      out.push('', 'Code size (pruned deployment, Split final accuracy):', '');
      out.push('| P | K | raw B/class (P*K/8) | compressed B/class | accuracy |', '|---|---|---|---|---|');
      for (const p of d.geometry)
        out.push(`| ${p.parts} | ${p.anchors} | ${int(p.bytesPerClass)} | ${int(p.compressedBytesPerClass)} | ${pct(p.accuracy)} |`);
    }
    const eps = v.episodes as Record<string, Record<string, { mean: number; ci95: number }>> | undefined;
    if (eps) {
      const names = Object.keys(Object.values(eps)[0] ?? {});
      out.push('', `## N-way k-shot episodes, ${bb} (MNIST + Fashion-MNIST, 20 classes, 15 queries per class; mean +- 95% CI)`, '');
      out.push(`| setting | ${names.join(' | ')} |`, `|---|${names.map(() => '---').join('|')}|`);
      for (const [k, row] of Object.entries(eps))
        out.push(`| ${k} | ${names.map((n) => `${pct(row[n].mean)} +- ${pct(row[n].ci95)}`).join(' | ')} |`);
    }
    const e2e = v.endToEnd as { batch: number; learnMicros: Stage; queryMicros: Stage } | undefined;
    if (e2e) {
      out.push('', `## End to end, ${bb} (microseconds per image, batches of ${e2e.batch}, median)`, '');
      out.push('| | backbone | encode | memory | total |', '|---|---|---|---|---|');
      for (const [k, s] of [
        ['learn', e2e.learnMicros],
        ['query', e2e.queryMicros],
      ] as const)
        out.push(`| ${k} | ${us(s.backbone)} | ${us(s.encode)} | ${us(s.memory)} | ${us(s.total)} |`);
    }
  }
  const plots = (r.plots as string[]) ?? [];
  if (plots.length) out.push('', '## Plots', '', ...plots.map((p) => `![${p}](${p})`));
  return `${out.join('\n')}\n`;
}
