// Fake filesystem roots for board detection: the few files a board exposes under /proc and /sys.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeBoard {
  /** Device-tree model (written NUL-terminated, as the kernel does). */
  model?: string;
  compatible?: string[];
  /** Where the device tree lives: /proc/device-tree (default) or /sys/firmware/devicetree/base. */
  dtPath?: 'proc/device-tree' | 'sys/firmware/devicetree/base';
  cpuinfo?: string;
}

export function fakeRoot(board: FakeBoard): string {
  const root = mkdtempSync(join(tmpdir(), 'engram-fake-root-'));
  const dt = join(root, board.dtPath ?? 'proc/device-tree');
  if (board.model !== undefined || board.compatible) mkdirSync(dt, { recursive: true });
  if (board.model !== undefined) writeFileSync(join(dt, 'model'), `${board.model}\0`);
  if (board.compatible) writeFileSync(join(dt, 'compatible'), board.compatible.map((c) => `${c}\0`).join(''));
  if (board.cpuinfo !== undefined) {
    mkdirSync(join(root, 'proc'), { recursive: true });
    writeFileSync(join(root, 'proc', 'cpuinfo'), board.cpuinfo);
  }
  return root;
}
