import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

/** The repository root (where package.json is), found from the compiled test file. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found');
    dir = up;
  }
  return dir;
}

/** `../shared` beside the repository (only for the UML kernel; tests skip without it). */
export function sharedDir(): string {
  return resolve(repoRoot(), '..', 'shared');
}

/**
 * One of OpenAMP's six reference images (test/fixtures/openamp: gzip -9 -n of the published
 * files, README there), checked against its published sha256 (SHA256SUMS there).
 */
export function openampImage(name: string): Buffer {
  const dir = join(repoRoot(), 'test', 'fixtures', 'openamp');
  const bytes = gunzipSync(readFileSync(join(dir, `${name}.gz`)));
  const sums = readFileSync(join(dir, 'SHA256SUMS'), 'utf8');
  const want = new RegExp(`^([0-9a-f]{64})  ${name.replace(/\./g, '\\.')}$`, 'm').exec(sums)?.[1];
  const got = createHash('sha256').update(bytes).digest('hex');
  if (got !== want) throw new Error(`${name}: sha256 ${got}, SHA256SUMS says ${want ?? 'nothing'}`);
  return bytes;
}

/** One of OpenAMP's reference images as a fresh SharedArrayBuffer copy. */
export function loadImage(name: string): SharedArrayBuffer {
  const bytes = openampImage(name);
  const sab = new SharedArrayBuffer(bytes.length);
  new Uint8Array(sab).set(bytes);
  return sab;
}

/** Compiled sample firmware path. */
export function firmwarePath(name: string): string {
  return join(repoRoot(), 'dist', 'samples', 'firmware', `${name}.js`);
}

/** First differing offset of two byte arrays, or -1. */
export function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

export function bytes(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Poll `cond` every few milliseconds until it holds; throws after `ms`. */
export async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 2));
  }
}
