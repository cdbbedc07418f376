// Real serial ports: opening with errors that say what to check, and the serve loop that keeps a
// LinkServer on a port across disconnects (a USB adapter pulled and plugged back, socat restarted).
// serialport is imported on first use, so commands that never open a port stay fast.
import { stat } from 'node:fs/promises';
import type { SerialPort } from 'serialport';
import type { LinkServer } from './server.js';
import { int, oneOf, options, str } from '../util/validate.js';

export interface SerialSettings {
  path: string;
  baudRate: number;
  dataBits?: 5 | 6 | 7 | 8;
  stopBits?: 1 | 2;
  parity?: 'none' | 'even' | 'odd';
  /** Hardware flow control (RTS/CTS). */
  rtscts?: boolean;
}

export function parseSerialSettings(s: unknown): SerialSettings {
  const o = options('serial', s, ['path', 'baudRate', 'dataBits', 'stopBits', 'parity', 'rtscts']);
  const out: SerialSettings = {
    path: str('serial.path', o.path, { nonEmpty: true }),
    baudRate: int('serial.baudRate', o.baudRate, 50, 16_000_000),
  };
  if (o.dataBits !== undefined) out.dataBits = int('serial.dataBits', o.dataBits, 5, 8) as 5 | 6 | 7 | 8;
  if (o.stopBits !== undefined) out.stopBits = int('serial.stopBits', o.stopBits, 1, 2) as 1 | 2;
  if (o.parity !== undefined) out.parity = oneOf('serial.parity', o.parity, ['none', 'even', 'odd'] as const);
  if (o.rtscts !== undefined) out.rtscts = Boolean(o.rtscts);
  return out;
}

/** Opens a port; the error names the path and what to check. */
export async function openSerial(settings: SerialSettings): Promise<SerialPort> {
  const s = parseSerialSettings(settings);
  let mod: typeof import('serialport');
  try {
    mod = await import('serialport');
  } catch (err) {
    throw new Error(
      `serial port support is not available (${(err as Error).message}); reinstall engram so serialport builds for this platform`,
      { cause: err },
    );
  }
  return new Promise((resolve, reject) => {
    const port = new mod.SerialPort(
      {
        path: s.path,
        baudRate: s.baudRate,
        dataBits: s.dataBits ?? 8,
        stopBits: s.stopBits ?? 1,
        parity: s.parity ?? 'none',
        rtscts: s.rtscts ?? false,
        autoOpen: true,
      },
      (err) => {
        if (err) {
          const hint = /ENOENT|No such file/.test(err.message)
            ? 'the device does not exist: check the cable and the path'
            : /EACCES|Permission/.test(err.message)
              ? 'permission denied: add the user to the dialout group'
              : /EBUSY|Resource busy|lock/i.test(err.message)
                ? 'another program holds the port'
                : 'check the path and the baud rate';
          reject(new Error(`serial port ${s.path}: cannot open at ${s.baudRate} baud: ${err.message} (${hint})`));
        } else resolve(port);
      },
    );
  });
}

export function closeSerial(port: SerialPort): Promise<void> {
  if (!port.isOpen) return Promise.resolve();
  return new Promise((resolve) => port.close(() => resolve()));
}

/** How long a stopping server waits for a peer to read the answers already sent. */
export const DRAIN_ON_EXIT_MS = 200;

export interface ServeSerialOptions {
  signal: AbortSignal;
  /** Pause between attempts to reopen a port that went away. */
  retryMs?: number;
  /** Status lines for the person running the server. */
  status?: (line: string) => void;
  /** Called each time the port is (re)opened and served. */
  onOpen?: (reopened: boolean) => void;
}

/**
 * Serves `server` on the port until `signal` aborts. The first open must succeed (a wrong path is the
 * user's mistake, reported at once); after that a vanished port is reopened until it comes back.
 */
export async function serveSerial(server: LinkServer, settings: SerialSettings, opts: ServeSerialOptions): Promise<void> {
  const retryMs = opts.retryMs ?? 500;
  const status = opts.status ?? (() => {});
  let port: SerialPort | null = await openSerial(settings);
  status(`listening on ${settings.path} at ${settings.baudRate} baud`);
  opts.onOpen?.(false);
  while (!opts.signal.aborted) {
    if (port === null) {
      try {
        port = await openSerial(settings);
        status(`reconnected to ${settings.path}`);
        opts.onOpen?.(true);
      } catch {
        await sleep(retryMs, opts.signal);
        continue;
      }
    }
    const detach = server.attach(port);
    const current: SerialPort = port;
    const device = await deviceId(settings.path);
    const reason = await new Promise<'closed' | 'replaced' | 'aborted'>((resolve) => {
      // A port can also vanish without a 'close' event reaching us (the other end of a pty dies while
      // no read is pending, a USB adapter re-enumerates under the same name): the path is checked
      // every retry period and a missing or different device counts as gone.
      const watch = setInterval(() => {
        void deviceId(settings.path).then((now) => {
          if (now !== device) finish('replaced');
        });
      }, retryMs);
      const onAbort = () => finish('aborted');
      const onClose = () => finish('closed');
      function finish(r: 'closed' | 'replaced' | 'aborted') {
        clearInterval(watch);
        opts.signal.removeEventListener('abort', onAbort);
        current.off('close', onClose);
        resolve(r);
      }
      if (opts.signal.aborted) return finish('aborted');
      opts.signal.addEventListener('abort', onAbort, { once: true });
      current.once('close', onClose);
    });
    if (reason === 'aborted') {
      // Let requests already received finish and be answered (a LEARN in flight gets its ACK), but do not
      // wait long on a peer that is not reading.
      await server.idle();
      await server.drain(DRAIN_ON_EXIT_MS);
      detach();
      await closeSerial(current);
      break;
    }
    detach();
    if (reason === 'replaced') await closeSerial(current).catch(() => {});
    port = null;
    status(`${settings.path} went away; waiting for it to come back`);
  }
}

/** The device number behind a path (following symlinks), or null when the path is gone. */
async function deviceId(path: string): Promise<string | null> {
  try {
    const st = await stat(path, { bigint: true });
    return `${st.dev}:${st.ino}:${st.rdev}`;
  } catch {
    return null;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
