// A fleet member in memory: its own learning (a learner core fed only the ops made on this device), the
// replicated FleetState, and its local policies. FleetDevice (device.ts) adds the disk; the property tests
// (test/94) drive this class directly with many simulated devices.
import { LearnerCore, type CoreOptions } from '../learner/core.js';
import { CalibrationProbes } from '../learner/openset.js';
import type { LearnerOp } from '../learner/ops.js';
import type { PrunePolicy } from '../learner/prune.js';
import { readColumns, sameColumn, type Column } from './columns.js';
import { FleetState, type Calibration, type Contribution, type Update } from './state.js';

export class FleetMember {
  readonly state = new FleetState();
  /** Labels this device forgot whose tombstone is not stamped yet (the next ownChange stamps them). */
  pendingForgets: string[] = [];
  /** Prune policies of this device, newest per kind (local: applied to the view, never replicated). */
  prunes: PrunePolicy[] = [];
  /** A fixed open-set threshold set on this device (local), or null for the calibrated one. */
  fixedThreshold: number | null = null;
  /** Set whenever the view may differ from the last one built. */
  viewStale = true;

  constructor(
    readonly origin: string,
    public own: LearnerCore,
  ) {
    if (own.archive) throw new RangeError('learner: a fleet member shares codes only; a learner that keeps feature vectors cannot join');
  }

  static empty(origin: string, options: CoreOptions): FleetMember {
    return new FleetMember(origin, new LearnerCore(options));
  }

  /** Applies one of this device's learner ops to its own core and local policies. */
  applyOwn(op: LearnerOp): void {
    switch (op.op) {
      case 'learn':
        this.own.apply(op);
        break;
      case 'forget': {
        const id = this.own.classOf(op.label);
        if (id >= 0 && this.own.examples[id] > 0) this.own.forget(op.label);
        if (!this.pendingForgets.includes(op.label)) this.pendingForgets.push(op.label);
        break;
      }
      case 'prune':
        if (op.policy.kind === 'class') return this.applyOwn({ op: 'forget', label: op.policy.label });
        this.prunes = [...this.prunes.filter((p) => p.kind !== op.policy.kind), op.policy];
        break;
      case 'threshold':
        this.fixedThreshold = op.value;
        break;
    }
    this.viewStale = true;
  }

  /**
   * Merges facts; a label this device learned before a forget it now hears of is forgotten in its own core
   * too, so its next contribution does not bring the label back. Returns the labels whose view changed.
   */
  merge(u: Update): Set<string> {
    const changed = this.state.merge(u);
    for (const t of u.tombstones)
      if (t.stamp.origin === this.origin) this.pendingForgets = this.pendingForgets.filter((l) => l !== t.label);
    for (const label of changed) {
      const id = this.own.classOf(label);
      if (label === '' || id < 0 || this.own.examples[id] === 0) continue;
      // The own core recalibrates after the forget: its new samples are this device's next change to publish.
      if (!this.state.contribution(this.origin, label) && this.state.tombstones.has(label)) this.own.forget(label);
    }
    if (changed.size) this.viewStale = true;
    return changed;
  }

  /**
   * What this device changed since its last change was taken: forgets stamped after everything it has seen,
   * each changed class as a new version of its contribution, its open-set samples. Merged here before it is
   * returned; null when nothing changed.
   */
  takeChange(): Update | null {
    const me = this.origin;
    const tombstones = this.pendingForgets.map((label) => ({ label, stamp: { t: ++this.state.clock, origin: me } }));
    const buried = new Set(this.pendingForgets);
    this.pendingForgets = [];
    const contributions: Contribution[] = [];
    const columns = readColumns(this.own.memory);
    this.own.labels.forEach((label, id) => {
      if (this.own.examples[id] === 0) return;
      const unitLabel = this.own.unitLabel;
      const cols: Column[] = unitLabel ? columns.filter((_, u) => unitLabel[u] === id) : [columns[id]];
      const cur = buried.has(label) ? undefined : this.state.contribution(me, label);
      if (
        cur &&
        cur.examples === this.own.examples[id] &&
        cur.columns.length === cols.length &&
        cur.columns.every((c, i) => sameColumn(c, cols[i]))
      )
        return;
      contributions.push({
        origin: me,
        label,
        t: cur ? cur.t : ++this.state.clock,
        version: cur ? cur.version + 1 : 1,
        examples: this.own.examples[id],
        columns: cols,
      });
    });
    const calibrations: Calibration[] = [];
    const cal = this.state.calibrations.get(me);
    const { known, novel } = this.own.openset;
    if ((cal || known.length || novel.length) && (!cal || !sameNumbers(cal.known, known) || !sameNumbers(cal.novel, novel)))
      calibrations.push({ origin: me, version: (cal?.version ?? 0) + 1, known: [...known], novel: [...novel] });
    if (!tombstones.length && !contributions.length && !calibrations.length) return null;
    const u = { contributions, tombstones, calibrations };
    this.merge(u);
    return u;
  }

  /**
   * The core this device answers from: the merged view with its local prune policies applied. A prune changes
   * what scores look like, so a pruned view is recalibrated (LearnerCore.recalibrate) from this device's own
   * calibration probes, the examples it learned itself, scored against the pruned merged memory.
   */
  view(): LearnerCore {
    const core = this.state.view(this.own.options, this.fixedThreshold);
    const prunes = this.prunes.filter((p) => !core.checkPolicy(p));
    if (prunes.length) core.probes = this.ownProbesIn(core);
    for (const p of prunes) core.prune(p);
    return core;
  }

  /** This device's calibration probes, pointed at the labels and columns of `view`. */
  private ownProbesIn(view: LearnerCore): CalibrationProbes {
    const out = new CalibrationProbes(view.options.neurons);
    const own = this.own;
    const ownUnits = own.unitLabel;
    const viewUnits = view.unitLabel;
    own.probes.probes.forEach((p, i) => {
      const label = own.labels[p.label];
      const id = view.classOf(label);
      if (id < 0 || view.examples[id] === 0) return;
      // The probe's example is in the view's column only while this device's contribution of the label is.
      let column = -1;
      if (p.column >= 0 && this.state.contribution(this.origin, label)) {
        if (!ownUnits || !viewUnits) column = id;
        else {
          // Example units: the k-th own column of the label is the k-th of this device's contribution, whose
          // columns follow those of the devices before it (view() orders contributions by device).
          const k = ownUnits.slice(0, p.column).filter((l) => l === p.label).length;
          let before = 0;
          for (const c of this.state.contributions.values()) if (c.label === label && c.origin < this.origin) before += c.columns.length;
          const columns = viewUnits.flatMap((l, u) => (l === id ? [u] : []));
          column = columns[before + k] ?? -1;
        }
      }
      out.probes.push({ label: id, column, novel: p.novel, known: p.known });
      out.bits.push(own.probes.bits[i]);
    });
    return out;
  }
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
