// Request bodies within limits: images sent raw (one per request) or as multipart/form-data (several, with
// text fields), and small JSON objects. Multipart is parsed by busboy; every limit is enforced while
// reading, so an oversized body is refused without being held in memory.
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { HttpError } from './errors.js';

export interface BodyLimits {
  /** Most bytes a request body may have. */
  maxBytes: number;
  /** Most images in one request. */
  maxImages: number;
  /** Keep the folders of multipart file names ("cat/1.jpg"), which eval takes the true labels from. */
  preservePath?: boolean;
}

export interface UploadedImage {
  /** The file name a multipart part gave, else "image N". */
  name: string;
  data: Uint8Array;
}

export interface ImageBody {
  images: UploadedImage[];
  fields: Record<string, string>;
}

const RAW_TYPES = /^(image\/[a-z0-9.+-]+|application\/octet-stream)$/;

/** Reads the images of a request: a raw image body or multipart/form-data. */
export async function readImages(req: IncomingMessage, limits: BodyLimits): Promise<ImageBody> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  checkLength(req, limits.maxBytes);
  if (type === 'multipart/form-data') return readMultipart(req, limits);
  if (RAW_TYPES.test(type)) {
    const data = await readAll(req, limits.maxBytes);
    if (data.length === 0) throw new HttpError(400, 'body: expected an image, got an empty body');
    return { images: [{ name: 'image 1', data }], fields: {} };
  }
  throw new HttpError(
    415,
    `content-type: expected an image (image/jpeg, image/png, image/webp, application/octet-stream) or multipart/form-data, got ${JSON.stringify(type || 'none')}`,
  );
}

/** Reads a JSON object body (at most 64 KB). */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json')
    throw new HttpError(415, `content-type: expected application/json, got ${JSON.stringify(type || 'none')}`);
  checkLength(req, 65_536);
  const text = Buffer.from(await readAll(req, 65_536)).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `body: malformed JSON (${(err as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HttpError(400, 'body: expected a JSON object');
  return value as Record<string, unknown>;
}

function checkLength(req: IncomingMessage, max: number): void {
  const len = req.headers['content-length'];
  if (len !== undefined && Number(len) > max) throw new HttpError(413, `body: ${len} bytes is over the limit of ${max} bytes`);
}

function readAll(req: IncomingMessage, max: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        cleanup();
        req.resume();
        reject(new HttpError(413, `body: over the limit of ${max} bytes`));
        return;
      }
      parts.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(new Uint8Array(Buffer.concat(parts, size)));
    };
    const onAbort = () => {
      cleanup();
      reject(new HttpError(400, 'body: the client closed the connection before the body ended'));
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('aborted', onAbort);
      req.off('error', onAbort);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('aborted', onAbort);
    req.on('error', onAbort);
  });
}

function readMultipart(req: IncomingMessage, limits: BodyLimits): Promise<ImageBody> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        preservePath: Boolean(limits.preservePath),
        limits: { fileSize: limits.maxBytes, files: limits.maxImages, fields: 32, fieldSize: 4096, parts: limits.maxImages + 32 },
      });
    } catch (err) {
      reject(new HttpError(400, `multipart: ${(err as Error).message}`));
      return;
    }
    const images: UploadedImage[] = [];
    const fields: Record<string, string> = {};
    let total = 0;
    let failed = false;
    let pendingFiles = 0;
    let finished = false;
    const fail = (e: HttpError) => {
      if (failed) return;
      failed = true;
      req.unpipe(bb);
      req.resume();
      reject(e);
    };
    const done = () => {
      if (!failed && finished && pendingFiles === 0) resolve({ images, fields });
    };
    bb.on('file', (_field, stream, info) => {
      pendingFiles++;
      const parts: Buffer[] = [];
      let size = 0;
      const name = info.filename || `image ${images.length + pendingFiles}`;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        total += chunk.length;
        if (total > limits.maxBytes) fail(new HttpError(413, `body: the images are over the limit of ${limits.maxBytes} bytes`));
        else parts.push(chunk);
      });
      stream.on('limit', () => fail(new HttpError(413, `${name}: over the limit of ${limits.maxBytes} bytes`)));
      stream.on('end', () => {
        pendingFiles--;
        if (size === 0) fail(new HttpError(400, `${name}: empty file`));
        else images.push({ name, data: new Uint8Array(Buffer.concat(parts, size)) });
        done();
      });
    });
    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(new HttpError(413, `field ${name}: over the limit of 4096 bytes`));
      fields[name] = value;
    });
    bb.on('filesLimit', () => fail(new HttpError(413, `multipart: more than ${limits.maxImages} images in one request`)));
    bb.on('fieldsLimit', () => fail(new HttpError(413, 'multipart: more than 32 fields')));
    bb.on('partsLimit', () => fail(new HttpError(413, 'multipart: too many parts')));
    bb.on('error', (err: Error) => fail(new HttpError(400, `multipart: ${err.message}`)));
    bb.on('close', () => {
      finished = true;
      done();
    });
    req.on('aborted', () => fail(new HttpError(400, 'body: the client closed the connection before the body ended')));
    req.pipe(bb);
  });
}
