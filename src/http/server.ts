// engram's local HTTP service: a JSON API over one learner (learn, predict, forget, prune, stats, eval), a live
// stream of the watched source's predictions (server-sent events), the source's current frame as JPEG, and
// the web page that teaches the device. Safe by default: 127.0.0.1, a token for every change, limits on body
// size, request rate and concurrency; a change is answered only once it is durable.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Engram, Prediction } from '../learner/engram.js';
import type { LiveLoop } from '../live/loop.js';
import { readImages, readJson, type UploadedImage } from './body.js';
import { HttpError } from './errors.js';
import { tokenMatches } from './token.js';
import { classBytes } from './class-bytes.js';
import { VERSION } from '../version.js';

export interface HttpServiceOptions {
  host?: string;
  port?: number;
  token: string;
  /** Most bytes in one request body (default 8 MiB). */
  maxBodyBytes?: number;
  /** Most images in one request (default 64). */
  maxImages?: number;
  /** Most images in one eval request (default 1000), within maxBodyBytes. */
  maxEvalImages?: number;
  /** Requests per second one client address may make (default 100), with bursts of twice that. */
  rate?: number;
  /** Requests handled at once (default 16); more wait, up to maxQueue (default 256), then get 503. */
  maxConcurrent?: number;
  maxQueue?: number;
  /** The watched source, when there is one. */
  live?: LiveLoop | null;
  /** Called with one line per notable event (start, refused requests are not logged). */
  log?: (line: string) => void;
}

export interface HttpCounters {
  requests: number;
  errors: number;
  refused: number;
}

const WEB_ROOT = fileURLToPath(new URL('../../../web/', import.meta.url));
const WEB_FILES: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/style.css': 'style.css',
};
const MIME: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};
const MAX_SSE_CLIENTS = 32;

export class HttpService {
  readonly counters: HttpCounters = { requests: 0, errors: 0, refused: 0 };
  private readonly server: Server;
  private readonly opts: Required<Omit<HttpServiceOptions, 'live' | 'log' | 'host' | 'port' | 'token'>>;
  private active = 0;
  private readonly queue: (() => void)[] = [];
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly sse = new Set<ServerResponse>();
  private jpeg: { index: number; data: Buffer } | null = null;
  private keepalive: NodeJS.Timeout | null = null;

  constructor(
    private readonly engram: Engram,
    private readonly options: HttpServiceOptions,
  ) {
    this.opts = {
      maxBodyBytes: options.maxBodyBytes ?? 8 * 1024 * 1024,
      maxImages: options.maxImages ?? 64,
      maxEvalImages: options.maxEvalImages ?? 1000,
      rate: options.rate ?? 100,
      maxConcurrent: options.maxConcurrent ?? 16,
      maxQueue: options.maxQueue ?? 256,
    };
    if (typeof options.token !== 'string' || options.token.length < 16)
      throw new RangeError('token: expected a string of at least 16 characters');
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err) => this.fail(req, res, err));
    });
    this.server.requestTimeout = 60_000;
    this.server.headersTimeout = 10_000;
    this.server.on('clientError', (_err, socket) => {
      if (socket.writable)
        socket.end(
          'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json\r\n\r\n{"error":"malformed HTTP request","status":400}',
        );
      else socket.destroy();
    });
    const live = options.live;
    if (live) {
      live.on('prediction', (p) => this.broadcast('prediction', p));
      live.on('learned', (l) => this.broadcast('learned', l));
    }
  }

  /** Starts listening; resolves with the address (port 0 picks a free one). */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 8080, this.options.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        this.keepalive = setInterval(() => {
          for (const res of this.sse) res.write(': keepalive\n\n');
        }, 15_000);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Stops accepting requests, ends live streams and waits for requests under way. */
  async close(): Promise<void> {
    if (this.keepalive) clearInterval(this.keepalive);
    for (const res of this.sse) res.end();
    this.sse.clear();
    await new Promise<void>((done) => this.server.close(() => done()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counters.requests++;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (!path.startsWith('/api/')) return this.serveWeb(path, method, res);
    if (path === '/api/live' && method === 'GET') return this.openStream(req, res);
    this.checkRate(req);
    await this.slot();
    try {
      await this.route(path, method, url, req, res);
    } finally {
      this.release();
    }
  }

  private async route(path: string, method: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const e = this.engram;
    const allow = (m: string) => {
      if (method !== m) throw new HttpError(405, `${path}: expected ${m}, got ${method}`, { Allow: m });
    };
    switch (path) {
      case '/api/health':
        allow('GET');
        return send(res, 200, { ok: true, version: VERSION, live: Boolean(this.options.live) });
      case '/api/stats': {
        allow('GET');
        const s = e.stats();
        const live = this.options.live;
        return send(res, 200, {
          ...s,
          perClass: classBytes(e),
          live: live
            ? {
                decoded: live.source.counters.decoded,
                dropped: live.source.counters.dropped,
                width: live.source.width,
                height: live.source.height,
                last: live.last,
              }
            : null,
        });
      }
      case '/api/predict': {
        allow('POST');
        const top = intParam(url, 'top', 3, 1, 100);
        const { images } = await readImages(req, this.limits());
        if (images.length === 0) throw new HttpError(400, 'body: expected at least one image');
        const preds = await this.withImages(images, () =>
          e.predict(
            images.map((i) => i.data),
            { top },
          ),
        );
        return send(res, 200, { predictions: preds.map((p, i) => ({ name: images[i].name, ...roundPrediction(p) })) });
      }
      case '/api/learn': {
        allow('POST');
        this.authorize(req);
        const { images, fields } = await readImages(req, this.limits());
        const label = url.searchParams.get('label') ?? fields.label;
        if (!label) throw new HttpError(400, 'label: expected ?label=NAME or a "label" form field');
        if (label.length > 1024) throw new HttpError(400, 'label: at most 1024 characters');
        if (images.length === 0) throw new HttpError(400, 'body: expected at least one image');
        const r = await this.withImages(images, () =>
          e.learn(
            label,
            images.map((i) => i.data),
          ),
        );
        await e.whenDurable(r.seq);
        return send(res, 200, { label: r.label, stored: r.stored, classes: r.classes, ...(r.pruned ? { pruned: r.pruned } : {}) });
      }
      case '/api/forget': {
        allow('POST');
        this.authorize(req);
        const body = await readJson(req);
        const label = body.label;
        if (typeof label !== 'string' || label === '') throw new HttpError(400, 'label: expected a non-empty string');
        if (!e.stats().labels.includes(label)) throw new HttpError(404, `label: no class named ${JSON.stringify(label)} is stored`);
        const r = await e.forget(label);
        await e.whenDurable(r.seq);
        return send(res, 200, { label: r.label, removed: r.removed });
      }
      case '/api/prune': {
        allow('POST');
        this.authorize(req);
        const policy = await readJson(req);
        const r = await clientErrors(() => e.prune(policy as never));
        await e.whenDurable(r.seq);
        const { seq: _seq, ...rest } = r;
        return send(res, 200, rest);
      }
      case '/api/eval': {
        allow('POST');
        // Folders name the true labels, as engram eval --labels-from dir: "cat/1.jpg" is a cat.
        const { images, fields } = await readImages(req, {
          maxBytes: this.opts.maxBodyBytes,
          maxImages: this.opts.maxEvalImages,
          preservePath: true,
        });
        if (images.length === 0) throw new HttpError(400, 'body: expected at least one image');
        const all = url.searchParams.get('label') ?? fields.label;
        const items = images.map((img) => {
          const label = all ?? folderOf(img.name);
          if (!label)
            throw new HttpError(
              400,
              `${img.name}: no true label: name each file "LABEL/file.jpg" (a folder per class) or give ?label=L for all`,
            );
          return { input: img.data, label };
        });
        const report = await clientErrors(() => e.evaluate(items));
        if (report.counts.evaluated === 0)
          throw new HttpError(
            400,
            `eval: none of the ${images.length} images could be read; the first: ${images[report.failed[0].index].name}: ${report.failed[0].error}`,
          );
        const named = <T extends { index: number }>(xs: T[]) => xs.map((x) => ({ ...x, file: images[x.index].name }));
        const { pct } = await import('../cli/eval-report.js');
        const { confusionSvg } = await import('../cli/confusion-svg.js');
        const parts = [
          report.counts.known ? `top-1 ${pct(report.top1)}` : '',
          `open set ${pct(report.openSet.accuracy)}`,
          `${report.counts.evaluated} images`,
        ];
        const svg = confusionSvg(report, { title: 'engram eval', subtitle: parts.filter(Boolean).join(', ') });
        return send(res, 200, { ...report, mistakes: named(report.mistakes), failed: named(report.failed), svg });
      }
      case '/api/live/frame.jpg': {
        allow('GET');
        const frame = this.liveLoop().source.latest;
        if (!frame) throw new HttpError(503, 'live: no frame decoded yet');
        if (this.jpeg?.index !== frame.index) {
          const sharp = (await import('sharp')).default;
          const data = await sharp(Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength), {
            raw: { width: frame.width, height: frame.height, channels: frame.channels },
          })
            .jpeg({ quality: 80 })
            .toBuffer();
          this.jpeg = { index: frame.index, data };
        }
        res.writeHead(200, {
          'Content-Type': 'image/jpeg',
          'Cache-Control': 'no-store',
          'X-Frame-Index': String(this.jpeg.index),
          'Content-Length': this.jpeg.data.length,
        });
        res.end(this.jpeg.data);
        return;
      }
      case '/api/live/learn': {
        allow('POST');
        this.authorize(req);
        const loop = this.liveLoop();
        const body = await readJson(req);
        const frames = body.frames ?? 5;
        const every = body.every ?? 1;
        const r = await clientErrors(() => loop.capture({ label: body.label as string, frames: frames as number, every: every as number }));
        return send(res, 200, r);
      }
      default:
        throw new HttpError(404, `no such endpoint: ${path} (see docs/http.md)`);
    }
  }

  private limits() {
    return { maxBytes: this.opts.maxBodyBytes, maxImages: this.opts.maxImages };
  }

  private liveLoop(): LiveLoop {
    const live = this.options.live;
    if (!live) throw new HttpError(404, 'live: no source is watched (start engram serve with --watch SOURCE)');
    return live;
  }

  /** Runs a learner call on uploaded images; an image that does not decode is the client's fault, named. */
  private async withImages<T>(images: UploadedImage[], run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof RangeError || err instanceof TypeError) throw new HttpError(400, err.message);
      // Find which image failed, so the answer can name it.
      for (const img of images) {
        try {
          await this.engram.features([img.data]);
        } catch (e) {
          throw new HttpError(400, `${img.name}: ${(e as Error).message}`);
        }
      }
      throw err;
    }
  }

  private authorize(req: IncomingMessage): void {
    const h = req.headers.authorization;
    const presented = h?.startsWith('Bearer ') ? h.slice(7).trim() : (req.headers['x-engram-token'] as string | undefined);
    if (!presented)
      throw new HttpError(
        401,
        'token: this call changes the memory and needs "Authorization: Bearer <token>" (engram serve printed it when it made it; see --token-file)',
        { 'WWW-Authenticate': 'Bearer' },
      );
    if (!tokenMatches(presented, this.options.token))
      throw new HttpError(403, 'token: not the token of this server', { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
  }

  private checkRate(req: IncomingMessage): void {
    const key = req.socket.remoteAddress ?? '?';
    const now = Date.now();
    const burst = this.opts.rate * 2;
    const b = this.buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * this.opts.rate);
    b.at = now;
    this.buckets.set(key, b);
    if (this.buckets.size > 10_000) this.buckets.clear();
    if (b.tokens < 1) {
      this.counters.refused++;
      throw new HttpError(429, `rate: more than ${this.opts.rate} requests per second from ${key}`, { 'Retry-After': '1' });
    }
    b.tokens -= 1;
  }

  private slot(): Promise<void> {
    if (this.active < this.opts.maxConcurrent) {
      this.active++;
      return Promise.resolve();
    }
    if (this.queue.length >= this.opts.maxQueue) {
      this.counters.refused++;
      return Promise.reject(
        new HttpError(503, `busy: ${this.opts.maxConcurrent} requests under way and ${this.opts.maxQueue} waiting`, { 'Retry-After': '1' }),
      );
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.active--;
  }

  private openStream(req: IncomingMessage, res: ServerResponse): void {
    const live = this.liveLoop();
    if (this.sse.size >= MAX_SSE_CLIENTS) throw new HttpError(503, `live: ${MAX_SSE_CLIENTS} streams are open already`);
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write('retry: 1000\n\n');
    if (live.last) res.write(event('prediction', live.last));
    this.sse.add(res);
    req.on('close', () => this.sse.delete(res));
  }

  private broadcast(name: string, data: unknown): void {
    const text = event(name, data);
    // A slow reader misses events rather than having them queue: its socket buffer is full until it drains.
    for (const res of this.sse) if (res.writableLength < 65_536) res.write(text);
  }

  private async serveWeb(path: string, method: string, res: ServerResponse): Promise<void> {
    const file = WEB_FILES[path];
    if (!file) throw new HttpError(404, `no such page: ${path}`);
    if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, `${path}: expected GET, got ${method}`, { Allow: 'GET' });
    const body = await readFile(join(WEB_ROOT, file));
    res.writeHead(200, {
      'Content-Type': MIME[file.split('.').pop()!],
      'Content-Length': body.length,
      'Cache-Control': 'no-cache',
      // The page loads nothing from elsewhere: it works offline and cannot be made to.
      'Content-Security-Policy': "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'",
    });
    res.end(method === 'HEAD' ? undefined : body);
  }

  private fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    const e = err instanceof HttpError ? err : new HttpError(500, err instanceof Error ? err.message : String(err));
    this.counters.errors++;
    if (e.status >= 500 && e.status !== 503) this.options.log?.(`http: ${e.message}`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // An unread body is read and thrown away, so that the client, still sending, gets the answer rather than a
    // reset connection; past 64 MiB the connection is closed instead.
    const declared = Number(req.headers['content-length'] ?? 0);
    const drain = !req.complete && declared <= 64 * 1024 * 1024;
    if (drain) {
      let seen = 0;
      req.on('data', (c: Buffer) => {
        seen += c.length;
        if (seen > 64 * 1024 * 1024) req.destroy();
      });
      req.resume();
    }
    const body = JSON.stringify({ error: e.message, status: e.status });
    res.writeHead(e.status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      ...e.headers,
      ...(!drain && !req.complete ? { Connection: 'close' } : {}),
    });
    res.end(body);
  }
}

function send(res: ServerResponse, status: number, obj: unknown): void {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}

function event(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Validation errors of the learner (RangeError, TypeError) are the client's: 400 with their message. */
async function clientErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof RangeError || err instanceof TypeError) throw new HttpError(400, err.message);
    throw err;
  }
}

function intParam(url: URL, name: string, dflt: number, min: number, max: number): number {
  const v = url.searchParams.get(name);
  if (v === null) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
    throw new HttpError(400, `${name}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** The folder a multipart file name puts the file in ("cat" for "test/cat/1.jpg"), or null for a bare name. */
function folderOf(name: string): string | null {
  const parts = name.split(/[\\/]/);
  return parts.length >= 2 && parts[parts.length - 2] !== '' ? parts[parts.length - 2] : null;
}

function roundPrediction(p: Prediction) {
  const r = (x: number) => Math.round(x * 1e4) / 1e4;
  return { label: p.label, score: r(p.score), margin: r(p.margin), top: p.top.map((t) => ({ label: t.label, score: r(t.score) })) };
}
