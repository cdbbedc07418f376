// The fleet's replicated state, a join-semilattice (docs/fleet.md "Merge semantics"): per (device, label) the
// device's own contribution, the newest by (stamp, version) kept; per label the newest forget (tombstone); per
// device its open-set samples, the newest version kept. merge() is a per-key maximum over total orders, so it is
// commutative, associative and idempotent; the memory a device answers from, view(), is a deterministic function
// of that state alone.
import { LearnerCore, type CoreOptions } from '../learner/core.js';
import { OpenSetCalibration } from '../learner/openset.js';
import { ExampleColumns } from '../learner/columns.js';
import { memoryFromColumns, sumColumns, type Column } from './columns.js';

/** A Lamport time and the device that made the event: totally ordered, unique per event. */
export interface Stamp {
  t: number;
  origin: string;
}

/** What one device has learned of one label since it last started it (after a forget it starts again). */
export interface Contribution {
  origin: string;
  label: string;
  /** When the device started this label: an example learned before a forget of the label is gone with it. */
  t: number;
  /** Grows with every change the device makes to it. */
  version: number;
  examples: number;
  /** Class units: one column; example units: one per example. */
  columns: Column[];
}

export interface Tombstone {
  label: string;
  stamp: Stamp;
}

/** A device's open-set samples (scores seen while learning, src/learner/openset.ts). */
export interface Calibration {
  origin: string;
  version: number;
  known: number[];
  novel: number[];
}

/** A set of facts to merge: a change of one device, a whole state, an export file's content. */
export interface Update {
  contributions: Contribution[];
  tombstones: Tombstone[];
  calibrations: Calibration[];
}

export function compareStamps(a: Stamp, b: Stamp): number {
  return a.t - b.t || (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0);
}

const KEEP = 512;

export class FleetState {
  readonly contributions = new Map<string, Contribution>();
  readonly tombstones = new Map<string, Stamp>();
  readonly calibrations = new Map<string, Calibration>();
  /** The largest Lamport time seen: a device's next event is stamped after it. */
  clock = 0;

  /** Merges facts; returns the labels whose view changed (a calibration change is reported as ''). */
  merge(u: Update): Set<string> {
    const changed = new Set<string>();
    for (const ts of u.tombstones) {
      this.clock = Math.max(this.clock, ts.stamp.t);
      const cur = this.tombstones.get(ts.label);
      if (cur && compareStamps(cur, ts.stamp) >= 0) continue;
      this.tombstones.set(ts.label, ts.stamp);
      for (const [key, c] of this.contributions) {
        if (c.label === ts.label && this.buried(c)) {
          this.contributions.delete(key);
          changed.add(ts.label);
        }
      }
    }
    for (const c of u.contributions) {
      this.clock = Math.max(this.clock, c.t);
      if (this.buried(c)) continue;
      const key = keyOf(c.origin, c.label);
      const cur = this.contributions.get(key);
      if (cur && (cur.t > c.t || (cur.t === c.t && cur.version >= c.version))) continue;
      this.contributions.set(key, c);
      changed.add(c.label);
    }
    for (const cal of u.calibrations) {
      const cur = this.calibrations.get(cal.origin);
      if (cur && cur.version >= cal.version) continue;
      this.calibrations.set(cal.origin, cal);
      changed.add('');
    }
    return changed;
  }

  /** Whether a forget of the label came after the device started its contribution. */
  buried(c: { origin: string; label: string; t: number }): boolean {
    const ts = this.tombstones.get(c.label);
    return ts !== undefined && compareStamps({ t: c.t, origin: c.origin }, ts) < 0;
  }

  contribution(origin: string, label: string): Contribution | undefined {
    return this.contributions.get(keyOf(origin, label));
  }

  /** Labels with at least one contribution, sorted. */
  labels(): string[] {
    return [...new Set([...this.contributions.values()].map((c) => c.label))].sort(byString);
  }

  /** Everything, as one update (what an export file or a joining device receives). */
  all(): Update {
    return {
      contributions: [...this.contributions.values()].sort((a, b) => byString(a.origin, b.origin) || byString(a.label, b.label)),
      tombstones: [...this.tombstones].map(([label, stamp]) => ({ label, stamp })).sort((a, b) => byString(a.label, b.label)),
      calibrations: [...this.calibrations.values()].sort((a, b) => byString(a.origin, b.origin)),
    };
  }

  /** What one device itself made: its contributions, its forgets, its calibration (what it signs and retains). */
  of(origin: string): Update {
    const a = this.all();
    return {
      contributions: a.contributions.filter((c) => c.origin === origin),
      tombstones: a.tombstones.filter((t) => t.stamp.origin === origin),
      calibrations: a.calibrations.filter((c) => c.origin === origin),
    };
  }

  /**
   * The learner core every device that holds this state answers from. Labels sorted; class units: a label's
   * column sums its contributions' columns (saturating); example units: every contributed example column, in
   * (device, label) order. Open-set samples: each device's newest, in device order, at most KEEP in all.
   * `fixedThreshold` is the device's own setting (local policy, not replicated).
   */
  view(options: CoreOptions, fixedThreshold: number | null = null): LearnerCore {
    const labels = this.labels();
    const byLabel = new Map<string, Contribution[]>(labels.map((l) => [l, []]));
    for (const c of [...this.contributions.values()].sort((a, b) => byString(a.origin, b.origin))) byLabel.get(c.label)!.push(c);
    const max = options.counterBits === 0 ? 1 : (1 << options.counterBits) - 1;
    const columns: Column[] = [];
    const unitLabel: number[] = [];
    const examples: number[] = [];
    labels.forEach((label, id) => {
      const cs = byLabel.get(label)!;
      examples[id] = cs.reduce((n, c) => n + c.examples, 0);
      if (options.units === 'example') {
        for (const c of cs)
          for (const col of c.columns) {
            columns.push(col);
            unitLabel.push(id);
          }
      } else {
        columns.push(
          sumColumns(
            cs.map((c) => c.columns[0]),
            max,
          ),
        );
      }
    });
    const core = new LearnerCore(options, memoryFromColumns(columns, options.neurons, options.counterBits, options.active));
    core.labels = labels;
    core.examples = examples;
    if (core.columns instanceof ExampleColumns) core.columns.unitLabel = unitLabel;
    const cals = [...this.calibrations.values()].sort((a, b) => byString(a.origin, b.origin));
    const share = Math.ceil(KEEP / Math.max(1, cals.length));
    core.openset = OpenSetCalibration.fromJSON({
      known: cals.flatMap((c) => c.known.slice(-share)),
      novel: cals.flatMap((c) => c.novel.slice(-share)),
    });
    core.fixedThreshold = fixedThreshold;
    // A core rebuilt from a snapshot recomputes what it derives (cosine norms): go through the same path.
    return LearnerCore.deserialize(core.serialize(), 'fleet view');
  }
}

function keyOf(origin: string, label: string): string {
  return `${origin}\u0000${label}`;
}

export function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
