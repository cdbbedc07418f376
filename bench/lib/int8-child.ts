// Child of bench/int8-cpus.ts, run natively or under qemu-x86_64 emulating another CPU: embeds the image files
// listed in a file (one path per line) with a backbone manifest (int8-embed.ts: `engram` or `plain`), writes the
// features as float32 to the output file, and prints the addon's int8Dot() and the session line as JSON.
import { readFileSync, writeFileSync } from 'node:fs';
import { loadBinding } from '../../src/native/index.js';
import { embedWith } from './int8-embed.js';

const [manifestPath, listFile, mode, outFile] = process.argv.slice(2);
if (!outFile || (mode !== 'engram' && mode !== 'plain')) throw new Error('usage: int8-child MANIFEST LIST engram|plain OUT');
const files = readFileSync(listFile, 'utf8').split('\n').filter(Boolean);
const { features, summary } = await embedWith(manifestPath, files, mode);
writeFileSync(outFile, Buffer.from(features.buffer));
console.log(JSON.stringify({ int8Dot: loadBinding().int8Dot(), summary, count: files.length }));
