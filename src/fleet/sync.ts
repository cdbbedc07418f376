// Sync over MQTT (docs/fleet.md "Sync"): every device publishes its changes (QoS 1) to
// engram/<fleet>/change/<origin> and keeps its whole own state retained at engram/<fleet>/state/<origin>, so a
// device that joins or comes back reads every device's state and then follows the changes. A received message
// is applied only when signed by a key on the allow-list, and acknowledged only once it is journalled.
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { FleetDevice } from './device.js';
import { encodeUpdate } from './codec.js';
import { openMessage, signMessage } from './sign.js';
import type { Update } from './state.js';
import type { Engram } from '../learner/engram.js';

export interface SyncOptions {
  /** The store directory (engram sync), or a learner open on it in this process (engram serve --fleet). */
  store: string | Engram;
  broker: string;
  fleet: string;
  /** base64 public key -> name; messages from other keys are refused. */
  allow: Map<string, string>;
  /** Apply the fleet's changes, publish nothing. */
  readOnly?: boolean;
  /** How often local changes to the store are looked for, ms. */
  intervalMs?: number;
  username?: string;
  password?: string;
  /** TLS: CA certificate file, client certificate and key files (mqtts:// URLs). */
  ca?: string;
  cert?: string;
  key?: string;
  onEvent: (e: SyncEvent) => void;
  onWarning: (m: string) => void;
  signal: AbortSignal;
}

export type SyncEvent =
  | { event: 'ready'; origin: string; space: string; classes: string[] }
  | { event: 'connected' }
  | { event: 'offline' }
  | { event: 'published'; kind: 'change' | 'state'; bytes: number; labels: string[] }
  | { event: 'applied'; from: string; labels: string[] }
  | { event: 'refused'; topic: string; why: string };

export function topics(fleet: string): { change: (o: string) => string; state: (o: string) => string; all: string } {
  return { change: (o) => `engram/${fleet}/change/${o}`, state: (o) => `engram/${fleet}/state/${o}`, all: `engram/${fleet}/+/+` };
}

/** Runs until `signal` aborts; resolves after the store is closed. */
export async function runSync(o: SyncOptions): Promise<void> {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(o.fleet))
    throw new RangeError(`--fleet: expected 1 to 64 letters, digits, "_", "." or "-", got ${JSON.stringify(o.fleet)}`);
  // A learner served in this process tells of each op it commits: share it at once, not at the next tick.
  let onLocal = () => {};
  const device =
    typeof o.store === 'string'
      ? await FleetDevice.open(o.store, { onWarning: o.onWarning })
      : await FleetDevice.attach(o.store, { onWarning: o.onWarning, onOp: () => onLocal(), readOnly: o.readOnly });
  const t = topics(o.fleet);
  const space = device.spaceId;
  const labels = (u: Update) => [...new Set([...u.contributions.map((c) => c.label), ...u.tombstones.map((x) => x.label)])].sort();
  let client: MqttClient | null = null;
  let timer: NodeJS.Timeout | null = null;
  let soon: NodeJS.Timeout | null = null;
  let stateTimer: NodeJS.Timeout | null = null;
  try {
    await device.step();
    await device.writeView(true);
    o.onEvent({ event: 'ready', origin: device.origin, space, classes: device.member.view().activeLabels() });
    const opts: IClientOptions = {
      clientId: `engram-${o.fleet}-${device.origin}`,
      // MQTT 5: the client acknowledges a message when we say so (customHandleAcks), and a session outlives a
      // disconnect only with an expiry interval (a week: the broker queues what a device misses meanwhile).
      protocolVersion: 5,
      clean: false,
      properties: { sessionExpiryInterval: 7 * 24 * 3600 },
      reconnectPeriod: 500,
      connectTimeout: 5000,
      ...(o.username === undefined ? {} : { username: o.username }),
      ...(o.password === undefined ? {} : { password: o.password }),
      ...(o.ca ? { ca: readFileSync(o.ca) } : {}),
      ...(o.cert ? { cert: readFileSync(o.cert) } : {}),
      ...(o.key ? { key: readFileSync(o.key) } : {}),
      // Runs before the message is acknowledged: the PUBACK goes out only after the update is on disk.
      customHandleAcks: (topic, message, _packet, done) => {
        receive(topic, Buffer.from(message)).then(
          () => done(0),
          (err: Error) => {
            o.onWarning(`could not apply the message on ${topic}: ${err.message}; it stays unacknowledged`);
          },
        );
      },
    };
    const publish = (topic: string, u: Update, retain: boolean) =>
      new Promise<void>((resolve) => {
        const msg = signMessage(device.key, o.fleet, space, encodeUpdate(u));
        client!.publish(topic, msg, { qos: 1, retain }, (err) => {
          if (!err) o.onEvent({ event: 'published', kind: retain ? 'state' : 'change', bytes: msg.length, labels: labels(u) });
          resolve();
        });
      });
    const publishState = () => (o.readOnly ? Promise.resolve() : publish(t.state(device.origin), device.state.of(device.origin), true));
    const receive = async (topic: string, msg: Buffer) => {
      const parts = topic.split('/');
      const v = openMessage(msg, o.fleet, o.allow, space);
      if (!v.ok) return o.onEvent({ event: 'refused', topic, why: v.why });
      if (parts[3] !== v.origin) return o.onEvent({ event: 'refused', topic, why: `signed by ${v.origin}, published under ${parts[3]}` });
      if (v.origin === device.origin) return;
      const changed = await device.apply(v.update);
      if (changed.size) {
        o.onEvent({ event: 'applied', from: v.name, labels: [...changed].filter((l) => l !== '').sort() });
        tickSoon();
      }
    };
    // The retained state follows the changes within a second, not after each one: a burst of learns costs one.
    const scheduleState = () => {
      stateTimer ??= setTimeout(() => {
        stateTimer = null;
        if (client!.connected) void publishState();
      }, 1000);
    };
    // A burst of messages or local ops costs one merged memory: the next tick, 50 ms after the first of them.
    const tickSoon = () => {
      soon ??= setTimeout(() => {
        soon = null;
        void tick();
      }, 50);
    };
    onLocal = tickSoon;
    client = mqtt.connect(o.broker, opts);
    // A broker that keeps refusing is said once, in words, not at every reconnect (every 500 ms).
    let lastError = '';
    client.on('connect', () => {
      lastError = '';
      o.onEvent({ event: 'connected' });
      client!.subscribe(t.all, { qos: 1 });
      // Whatever was not acknowledged before a crash or an outage is in the state: publish it whole.
      void publishState();
    });
    client.on('offline', () => o.onEvent({ event: 'offline' }));
    client.on('error', (err) => {
      const m = brokerError(err, o);
      if (m === lastError) return;
      lastError = m;
      o.onWarning(`broker ${o.broker}: ${m}; retrying`);
    });
    let busy = false;
    const tick = async (): Promise<void> => {
      if (busy) return tickSoon();
      busy = true;
      try {
        const u = await device.step();
        if (u && !o.readOnly && client!.connected) {
          // Open-set samples (up to 1,024 numbers) travel in the retained state only, not with every change.
          if (u.contributions.length || u.tombstones.length) await publish(t.change(device.origin), changeOnly(u), false);
          scheduleState();
        }
      } catch (err) {
        // The learner store is busy (a learn holds its lock): try again at the next tick.
        if (!/lock/i.test((err as Error).message)) o.onWarning(`sync: ${(err as Error).message}; retrying`);
      } finally {
        busy = false;
      }
    };
    timer = setInterval(() => void tick(), o.intervalMs ?? 500);
    await new Promise<void>((resolve) => {
      if (o.signal.aborted) resolve();
      o.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    if (timer) clearInterval(timer);
    if (soon) clearTimeout(soon);
    if (stateTimer) clearTimeout(stateTimer);
    if (client) await client.endAsync().catch(() => undefined);
    await device.writeView().catch(() => undefined);
    await device.close();
  }
}

/** What a connection error means for the user: TLS refusals in words, with the flag that fixes them. */
export function brokerError(err: Error & { code?: string | number }, o: Pick<SyncOptions, 'cert' | 'ca'>): string {
  const text = `${err.code ?? ''} ${err.message}`;
  if (/CERTIFICATE_REQUIRED|certificate required|alert number 116/i.test(text))
    return o.cert
      ? `the broker requires a client certificate and did not take this one (${o.cert})`
      : 'the broker requires a client certificate: give --cert and --key (a certificate its CA signed)';
  if (/BAD_CERTIFICATE|UNKNOWN_CA|bad certificate|unknown ca|alert number 4[28]/i.test(text))
    return o.cert
      ? `the broker refused the client certificate ${o.cert} (not signed by a CA it trusts?)`
      : `the broker refused the TLS handshake (${err.message})`;
  if (/SELF_SIGNED|UNABLE_TO_VERIFY|self[- ]signed|unable to (verify|get local issuer)/i.test(text))
    return o.ca
      ? `the broker's certificate is not signed by --ca ${o.ca} (${err.message})`
      : `the broker's certificate is not trusted (${err.message}): give its CA with --ca`;
  return err.message;
}

/** A change as published on the change topic: without the calibration samples, which the state carries. */
export function changeOnly(u: Update): Update {
  return { contributions: u.contributions, tombstones: u.tombstones, calibrations: [] };
}
