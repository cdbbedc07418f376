// Frames waiting for a port, bounded whether or not the peer reads. Answers to admitted requests are kept
// (the server admits a bounded number of requests, so they are bounded too); frames nobody asked for in
// order (errors about unreadable bytes, BUSY, answers repeated for a retransmission) are dropped and counted
// once a few of them are already waiting: a peer that does not read, or line noise that turns every two bytes
// into a 60-byte ERROR, must not make engram grow.
import type { ByteStream } from './server.js';
import { writeChunked } from './write.js';

/** Unsolicited frames allowed to wait at once; more are dropped until the port takes them. */
export const MAX_WAITING_UNSOLICITED = 4;

interface Item {
  bytes: Buffer;
  answer: boolean;
}

export class Outbox {
  private queue: Item[] = [];
  private writing: Item | null = null;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  /** Answers to admitted requests not yet handed to the port (queued or being written). */
  answersWaiting = 0;
  private unsolicitedWaiting = 0;

  constructor(
    private readonly port: ByteStream,
    private readonly onDrop: () => void,
    private readonly onWriteError: (err: Error) => void,
  ) {}

  /** Queues the answer to an admitted request; it is always kept (until close). */
  answer(bytes: Buffer): void {
    if (this.closed) return;
    this.answersWaiting++;
    this.push({ bytes, answer: true });
  }

  /** Whether an unsolicited frame would be kept now (lets the caller skip encoding one that would be dropped). */
  get canOffer(): boolean {
    return !this.closed && this.unsolicitedWaiting < MAX_WAITING_UNSOLICITED;
  }

  /** Queues an unsolicited frame, or drops it (and counts the drop) when enough are already waiting. */
  offer(bytes: Buffer | (() => Buffer)): boolean {
    if (!this.canOffer) {
      this.onDrop();
      return false;
    }
    this.unsolicitedWaiting++;
    this.push({ bytes: typeof bytes === 'function' ? bytes() : bytes, answer: false });
    return true;
  }

  /** Bytes queued or being written. */
  get pendingBytes(): number {
    let n = this.writing ? this.writing.bytes.length : 0;
    for (const it of this.queue) n += it.bytes.length;
    return n;
  }

  /** Resolves true once everything queued has been written, or false after `timeoutMs`. */
  drained(timeoutMs: number): Promise<boolean> {
    if (!this.writing && this.queue.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  /** Drops whatever waits; a write already handed to the port finishes or fails with the port. */
  close(): void {
    this.closed = true;
    this.queue = [];
    this.answersWaiting = this.writing?.answer ? 1 : 0;
    this.unsolicitedWaiting = this.writing && !this.writing.answer ? 1 : 0;
    if (!this.writing) this.wakeIdle();
  }

  private push(item: Item): void {
    this.queue.push(item);
    if (!this.writing) void this.pump();
  }

  private async pump(): Promise<void> {
    while (!this.closed && this.queue.length > 0) {
      const item = this.queue.shift()!;
      this.writing = item;
      try {
        await writeChunked(this.port, item.bytes);
      } catch (err) {
        this.onWriteError(err as Error);
      }
      this.writing = null;
      if (item.answer) this.answersWaiting--;
      else this.unsolicitedWaiting--;
    }
    this.wakeIdle();
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
