// A stand-in learner for the framing and dispatch tests only (the pty tests use the real Engram):
// it records what the server asked and can be told to fail or to hold an answer back.
import type { LinkInput, LinkLearner, LinkPrediction } from '../../src/link/learner.js';
import type { WirePrunePolicy } from '../../src/link/protocol.js';

export class FakeLearner implements LinkLearner {
  calls: { op: string; args: unknown[] }[] = [];
  /** Thrown by the next call, then cleared. */
  failNext: Error | null = null;
  /** When set, learn() waits for this before resolving (a slow fsync). */
  hold: Promise<void> | null = null;
  private labels = new Map<string, number>();

  private enter(op: string, ...args: unknown[]): void {
    this.calls.push({ op, args });
    const e = this.failNext;
    this.failNext = null;
    if (e) throw e;
  }

  async learn(label: string, inputs: LinkInput[]) {
    this.enter('learn', label, inputs);
    if (this.hold) await this.hold;
    this.labels.set(label, (this.labels.get(label) ?? 0) + inputs.length);
    return { label, stored: inputs.length, classes: this.labels.size };
  }

  async predict(inputs: LinkInput[], opts?: { top?: number }): Promise<LinkPrediction[]> {
    this.enter('predict', inputs, opts);
    const top = [...this.labels.keys()].slice(0, opts?.top ?? 3).map((label, i) => ({ label, score: 1 / (i + 1) }));
    return [{ label: top[0]?.label ?? null, score: top[0]?.score ?? 0, margin: 0.5, top }];
  }

  async forget(label: string) {
    this.enter('forget', label);
    const had = this.labels.delete(label);
    return { label, removed: had ? 10 : 0 };
  }

  async prune(policy: WirePrunePolicy) {
    this.enter('prune', policy);
    return { removed: 3, bytes: 1000, compressedBytes: 400 };
  }

  stats() {
    this.enter('stats');
    return {
      classes: this.labels.size,
      labels: [...this.labels.keys()],
      bytes: 1000,
      compressedBytes: 400,
      density: 0.125,
      examples: Object.fromEntries(this.labels),
    };
  }

  async save() {
    this.enter('save');
  }
}
