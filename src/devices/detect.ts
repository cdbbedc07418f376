// Which board is this? Reads the device-tree model and compatible strings (or the Model line of
// /proc/cpuinfo) under a root directory, so tests point it at a fake tree, and scores each profile.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadProfiles, getProfile, type DeviceProfile } from './profile.js';

export interface BoardFacts {
  /** Node's process.arch (or the override). */
  arch: string;
  /** Device-tree model string, or the Model line of cpuinfo; null when neither exists. */
  model: string | null;
  /** Where the model came from, e.g. /proc/device-tree/model. */
  modelSource: string | null;
  /** Device-tree compatible entries, most specific first. */
  compatible: string[];
}

export interface DetectOptions {
  /** Directory standing for "/" (default "/"): a fake tree in tests. */
  root?: string;
  /** Architecture to assume (default process.arch). */
  arch?: string;
  /** Profiles to choose from (default: the package's devices/). */
  profiles?: DeviceProfile[];
}

export interface ProfileMatch {
  id: string;
  matched: boolean;
  /** 0 no match, 1 architecture only (generic), 2+ board evidence (one more per rule that hit). */
  score: number;
  /** Each rule checked, for and against. */
  reasons: string[];
  warnings: string[];
}

export interface Detection {
  profile: DeviceProfile | null;
  /** Why the chosen profile matched, or why none did. */
  reasons: string[];
  warnings: string[];
  facts: BoardFacts;
  candidates: ProfileMatch[];
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return null;
  }
}

export function readBoardFacts(opts: { root?: string; arch?: string } = {}): BoardFacts {
  const root = opts.root ?? '/';
  const arch = opts.arch ?? process.arch;
  const dtDirs = ['proc/device-tree', 'sys/firmware/devicetree/base'];
  let model: string | null = null;
  let modelSource: string | null = null;
  let compatible: string[] = [];
  for (const d of dtDirs) {
    const m = readText(join(root, d, 'model'));
    if (m !== null && model === null) {
      model = m.replace(/\0+$/, '').trim();
      modelSource = `/${d}/model`;
    }
    const c = readText(join(root, d, 'compatible'));
    if (c !== null && compatible.length === 0)
      compatible = c
        .split('\0')
        .map((s) => s.trim())
        .filter(Boolean);
  }
  if (model === null) {
    // Raspberry Pi OS also prints the board in cpuinfo, which survives in containers without /proc/device-tree.
    const cpuinfo = readText(join(root, 'proc/cpuinfo'));
    const line = cpuinfo?.match(/^Model\s*:\s*(.+)$/m);
    if (line) {
      model = line[1].trim();
      modelSource = '/proc/cpuinfo';
    }
  }
  return { arch, model, modelSource, compatible };
}

export function matchProfile(profile: DeviceProfile, facts: BoardFacts): ProfileMatch {
  const reasons: string[] = [];
  const warnings: string[] = [];
  const archOk = (profile.match.arch as string[]).includes(facts.arch);
  reasons.push(
    archOk
      ? `arch ${facts.arch} is one of ${profile.match.arch.join(', ')}`
      : `arch ${facts.arch} is not one of ${profile.match.arch.join(', ')}`,
  );
  const models = profile.match.model ?? [];
  const compat = profile.match.compatible ?? [];
  let evidence = 0;
  if (models.length) {
    const hit = facts.model === null ? undefined : models.find((m) => facts.model!.includes(m));
    if (hit) {
      evidence++;
      reasons.push(`model "${facts.model}" (${facts.modelSource}) contains "${hit}"`);
    } else if (facts.model === null) {
      reasons.push('no board model found (/proc/device-tree/model, /proc/cpuinfo)');
    } else {
      reasons.push(`model "${facts.model}" contains none of ${models.map((m) => `"${m}"`).join(', ')}`);
    }
  }
  if (compat.length) {
    const hit = compat.find((c) => facts.compatible.includes(c));
    if (hit) {
      evidence++;
      reasons.push(`device-tree compatible lists "${hit}"`);
    } else {
      reasons.push(
        facts.compatible.length
          ? `device-tree compatible lists none of ${compat.map((c) => `"${c}"`).join(', ')}`
          : 'no device-tree compatible entries',
      );
    }
  }
  const boardRules = models.length + compat.length > 0;
  const matched = archOk && (!boardRules || evidence > 0);
  if (!boardRules && archOk) reasons.push('generic profile: matched on architecture alone');
  if (matched && !(profile.supportedArch as string[]).includes(facts.arch)) {
    warnings.push(
      `${profile.name} reports arch ${facts.arch}, but engram runs there on ${profile.supportedArch.join(', ')} only` +
        (facts.arch === 'arm' ? ' (a 32-bit OS: onnxruntime-node has no binary for it; install the 64-bit OS)' : ''),
    );
  }
  return { id: profile.id, matched, score: matched ? (boardRules ? 1 + evidence : 1) : 0, reasons, warnings };
}

/** Scores every profile against this machine and picks the best (board evidence beats a generic match). */
export function detectDevice(opts: DetectOptions = {}): Detection {
  const facts = readBoardFacts(opts);
  const profiles = opts.profiles ?? loadProfiles();
  const candidates = profiles.map((p) => matchProfile(p, facts));
  let best: ProfileMatch | null = null;
  for (const c of candidates) if (c.matched && (best === null || c.score > best.score)) best = c;
  if (!best) {
    const seen = facts.model ? `model "${facts.model}"` : 'no board model';
    return {
      profile: null,
      reasons: [`no profile matches arch ${facts.arch} with ${seen}; choose one with --profile`],
      warnings: [],
      facts,
      candidates,
    };
  }
  const winner = best;
  return { profile: profiles.find((p) => p.id === winner.id)!, reasons: winner.reasons, warnings: winner.warnings, facts, candidates };
}

export interface ResolvedProfile {
  profile: DeviceProfile | null;
  /** override: named with --profile; detected: auto-detection; none: nothing matched. */
  source: 'override' | 'detected' | 'none';
  detection: Detection;
}

/** The profile to use: the one named, else the detected one. Detection runs either way, to show why. */
export function resolveProfile(opts: DetectOptions & { profile?: string } = {}): ResolvedProfile {
  const detection = detectDevice(opts);
  if (opts.profile !== undefined) {
    const profile = opts.profiles
      ? (opts.profiles.find((p) => p.id === opts.profile) ?? getProfile(opts.profile))
      : getProfile(opts.profile);
    // The named profile may not suit this machine: say so rather than fail later in onnxruntime.
    const own = matchProfile(profile, detection.facts);
    const warnings = (profile.supportedArch as string[]).includes(detection.facts.arch)
      ? own.warnings
      : [`profile ${profile.id} runs on ${profile.supportedArch.join(', ')}; this machine is ${detection.facts.arch}`];
    return { profile, source: 'override', detection: { ...detection, warnings } };
  }
  return { profile: detection.profile, source: detection.profile ? 'detected' : 'none', detection };
}
