import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { EmbeddingCache } from '../src/models/cache';
import { deterministicVector } from './helpers/vectors';

const WRITER = path.join(__dirname, 'helpers', 'cacheWriter.js');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'il-cache-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

function freshDir(name: string): string {
  return fs.mkdtempSync(path.join(scratch, `${name}-`));
}

function startWriter(dir: string, identity: string, prefix: string, from: number, to: number, dim: number, rounds: number): ChildProcess {
  return spawn(process.execPath, [WRITER, dir, identity, prefix, String(from), String(to), String(dim), String(rounds)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

/** Resolves once the child has printed `lines` lines. */
function linesWritten(child: ChildProcess, lines: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString().split('\n').length - 1;
      if (seen >= lines) resolve();
    });
    child.on('exit', () => (seen >= lines ? resolve() : reject(new Error(`child exited after ${seen} lines`))));
  });
}

function assertEqualVectors(actual: Float32Array, expected: Float32Array, label: string): void {
  assert.equal(actual.length, expected.length, label);
  assert.ok(actual.every((v, i) => v === expected[i]), `${label}: values differ`);
}

test('round trip, hits and misses, identities kept apart', async () => {
  const cache = new EmbeddingCache(freshDir('basic'));
  const texts = ['alpha', 'beta', 'gamma'];
  const vectors = texts.map((t) => deterministicVector(t, 384));
  assert.deepEqual(await cache.getMany('model-a', texts), [undefined, undefined, undefined]);
  await cache.setMany('model-a', texts, vectors);
  const back = await cache.getMany('model-a', [...texts, 'delta']);
  texts.forEach((t, i) => assertEqualVectors(back[i]!, vectors[i], t));
  assert.equal(back[3], undefined);
  assert.equal(await cache.get('model-b', 'alpha'), undefined);
  assert.deepEqual(cache.stats, { hits: 3, misses: 5, corrupt: 0, writes: 3 });
  // Persistent: a new instance on the same folder finds the vectors.
  assertEqualVectors((await new EmbeddingCache(cache.dir).get('model-a', 'beta'))!, vectors[1], 'reopened');
});

test('corrupted entries (flipped bytes, truncated, foreign file) are misses, never returned, and get overwritten', async () => {
  const cache = new EmbeddingCache(freshDir('corrupt'));
  const texts = ['payload', 'header', 'checksum', 'truncated', 'empty', 'moved'];
  const vectors = texts.map((t) => deterministicVector(t, 64));
  await cache.setMany('m', texts, vectors);
  await cache.set('m', 'source', deterministicVector('source', 64));
  const file = (text: string): string => cache.fileFor('m', text);
  const flip = (text: string, at: number): void => {
    const bytes = fs.readFileSync(file(text));
    bytes[at < 0 ? bytes.length + at : at] ^= 0x10;
    fs.writeFileSync(file(text), bytes);
  };
  flip('payload', 8 + 4 * 10 + 1);
  flip('header', 5);
  flip('checksum', -3);
  fs.truncateSync(file('truncated'), 100);
  fs.writeFileSync(file('empty'), '');
  // A whole, intact entry of another key copied under this key's name.
  fs.copyFileSync(file('source'), file('moved'));
  const reader = new EmbeddingCache(cache.dir);
  assert.deepEqual(await reader.getMany('m', texts), texts.map(() => undefined));
  assert.equal(reader.stats.corrupt, texts.length);
  // Recomputed values replace the bad files.
  await reader.setMany('m', texts, vectors);
  const back = await new EmbeddingCache(cache.dir).getMany('m', texts);
  texts.forEach((t, i) => assertEqualVectors(back[i]!, vectors[i], t));
});

test('crash mid-write: a writer killed with SIGKILL leaves only correct vectors (or none)', async () => {
  const dir = freshDir('crash');
  const dim = 8192;
  const count = 400;
  const child = startWriter(dir, 'crash-id', 'crash-', 0, count, dim, 1);
  await linesWritten(child, 40);
  child.kill('SIGKILL');
  assert.equal(await exited(child), null);
  const texts = Array.from({ length: count }, (_, i) => `crash-${i}`);
  const cache = new EmbeddingCache(dir);
  const back = await cache.getMany('crash-id', texts);
  let found = 0;
  back.forEach((vector, i) => {
    if (!vector) return;
    found++;
    assertEqualVectors(vector, deterministicVector(texts[i], dim), texts[i]);
  });
  assert.ok(found >= 40 && found < count, `found ${found}`);
  assert.equal(cache.stats.corrupt, 0);
  // A torn file at the final name (what a non-atomic writer would leave) is detected too.
  const torn = cache.fileFor('crash-id', texts[0]);
  fs.writeFileSync(torn, fs.readFileSync(torn).subarray(0, 4000));
  assert.equal(await cache.get('crash-id', texts[0]), undefined);
  assert.equal(cache.stats.corrupt, 1);
});

test('concurrent writers: two processes writing overlapping keys while a reader reads; every value is correct', async () => {
  const dir = freshDir('concurrent');
  const dim = 256;
  const writers = [startWriter(dir, 'shared', 'k', 0, 150, dim, 3), startWriter(dir, 'shared', 'k', 75, 225, dim, 3)];
  const done = Promise.all(writers.map(exited));
  const texts = Array.from({ length: 225 }, (_, i) => `k${i}`);
  const expected = texts.map((t) => deterministicVector(t, dim));
  const reader = new EmbeddingCache(dir);
  let finished = false;
  void done.then(() => (finished = true));
  let reads = 0;
  while (!finished) {
    const back = await reader.getMany('shared', texts);
    back.forEach((v, i) => v && assertEqualVectors(v, expected[i], `during write ${texts[i]}`));
    reads++;
  }
  assert.deepEqual(await done, [0, 0]);
  const back = await new EmbeddingCache(dir).getMany('shared', texts);
  back.forEach((v, i) => assertEqualVectors(v!, expected[i], texts[i]));
  assert.equal(reader.stats.corrupt, 0);
  assert.ok(reads > 0);
  // No temporary files left behind by writers that finished.
  const leftovers: string[] = [];
  const walk = (d: string): void =>
    fs.readdirSync(d, { withFileTypes: true }).forEach((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : e.name.endsWith('.tmp') && leftovers.push(e.name)));
  walk(dir);
  assert.deepEqual(leftovers, []);
});

test('the in-memory layer serves vectors it read or wrote, drops the least recently used, and is off by default', async () => {
  const dim = 64;
  const bytes = dim * 4;
  const texts = ['one', 'two', 'three'];
  const vectors = texts.map((t) => deterministicVector(t, dim));
  const dir = freshDir('memory');
  // Room for two vectors.
  const cache = new EmbeddingCache(dir, { memoryBytes: 2 * bytes });
  await cache.setMany('m', texts.slice(0, 2), vectors.slice(0, 2));
  vectors[0][0] += 1; // the caller's array changes after set: the kept copy must not
  await cache.getMany('m', ['one']); // 'one' is now the most recently used, so 'two' goes first
  await cache.set('m', 'three', vectors[2]);
  for (const text of texts) fs.rmSync(cache.fileFor('m', text));

  const back = await cache.getMany('m', texts);
  assertEqualVectors(back[0]!, deterministicVector('one', dim), 'one from memory');
  assert.equal(back[1], undefined, 'two was dropped from memory and its file is gone');
  assertEqualVectors(back[2]!, vectors[2], 'three from memory');
  assert.deepEqual(cache.stats, { hits: 3, misses: 1, corrupt: 0, writes: 3 });

  // Disk only by default: the same files gone are misses.
  const diskOnly = new EmbeddingCache(freshDir('memory-off'));
  await diskOnly.setMany('m', texts, vectors);
  assert.equal((await diskOnly.getMany('m', texts)).filter(Boolean).length, 3);
  for (const text of texts) fs.rmSync(diskOnly.fileFor('m', text));
  assert.deepEqual(await diskOnly.getMany('m', texts), [undefined, undefined, undefined]);

  // Read from disk into memory: a vector read once survives its file.
  const writer = new EmbeddingCache(freshDir('memory-read'));
  await writer.setMany('m', texts, vectors);
  const reader = new EmbeddingCache(writer.dir, { memoryBytes: 10 * bytes });
  await reader.getMany('m', texts);
  for (const text of texts) fs.rmSync(reader.fileFor('m', text));
  const again = await reader.getMany('m', texts);
  texts.forEach((text, i) => assertEqualVectors(again[i]!, vectors[i], `${text} after its file was removed`));
});
