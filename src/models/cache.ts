/**
 * Persistent, content-addressed embedding cache: key = sha256(identity + "\0" + rendered text) -> float32 vector.
 *
 * Layout: one small file per vector in a fan-out directory, `<dir>/<sha256(identity)[0:16]>/<key[0:2]>/<key>.vec`.
 * File: "ILE1" | dim (uint32 LE) | dim x float32 LE | sha256(key, header, payload) (32 bytes).
 * - Crash mid-write: each vector is written to a unique temporary file and renamed into place (atomic on POSIX and
 *   NTFS), so a reader sees either no file or a whole one. No fsync: after a power loss a file may be torn, which
 *   the checksum catches.
 * - Corruption: a file whose size, magic or checksum is wrong, or that cannot be read (a folder in its place, a
 *   symbolic link loop, no permission), is a miss (counted as `corrupt`, told to onWarning); the recomputed vector
 *   replaces it when it can. A failed write is a warning too: the cache never fails a run. A wrong vector is never returned.
 * - Concurrent writers (processes or calls): equal keys hold equal vectors, and renames replace whole files.
 *
 * An instance can also keep the vectors it reads or writes in memory, least recently used dropped first, up to
 * `memoryBytes`: the extension keeps one instance across live updates, so re-analysing after an edit reads only the
 * edited task's vectors from disk or the model (issue 5's incremental target). Vectors in memory were checked when they
 * were read or written, so they need no checksum; the layer is off (0 bytes) unless asked for.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const MAGIC = Buffer.from('ILE1', 'ascii');
const HEADER_BYTES = 8;
const CHECKSUM_BYTES = 32;
/** Files read or written at once. */
const PARALLEL_IO = 32;
const LITTLE_ENDIAN = os.endianness() === 'LE';

export interface CacheStats {
  hits: number;
  misses: number;
  /** Entries found on disk but rejected (bad size, magic or checksum); also counted in misses. */
  corrupt: number;
  writes: number;
}

/** The in-memory layer of a long-lived instance (the extension's): 1000 queries x 8 tasks x 8 models at d = 1024 fit. */
export const SESSION_MEMORY_BYTES = 256 * 1024 * 1024;

export interface CacheOptions {
  /** Bytes of vectors also kept in memory by this instance (most recently used kept); default 0 (disk only). */
  memoryBytes?: number;
  /**
   * Told about a broken entry (unreadable, corrupt, a folder where a file belongs) or a failed write: the entry is a
   * miss and the vector is recomputed, never a failure of the run. The first MAX_WARNINGS are told, then one summary.
   */
  onWarning?: (message: string) => void;
}

/** Warnings told one by one before they are only counted (a broken cache folder would otherwise flood the output). */
const MAX_WARNINGS = 5;

export class EmbeddingCache {
  readonly stats: CacheStats = { hits: 0, misses: 0, corrupt: 0, writes: 0 };
  private readonly memoryLimit: number;
  /** key -> vector, in order of last use (Map keeps insertion order). */
  private readonly memory = new Map<string, Float32Array>();
  private memoryUsed = 0;
  private readonly onWarning?: (message: string) => void;
  private warnings = 0;

  constructor(
    readonly dir: string,
    options: CacheOptions = {},
  ) {
    this.memoryLimit = options.memoryBytes ?? 0;
    this.onWarning = options.onWarning;
  }

  private warn(message: string): void {
    this.warnings++;
    if (this.warnings <= MAX_WARNINGS) this.onWarning?.(message);
    else if (this.warnings === MAX_WARNINGS + 1) this.onWarning?.('further embedding cache warnings are not shown');
  }

  static key(identity: string, text: string): string {
    return createHash('sha256').update(identity).update('\0').update(text).digest('hex');
  }

  /** The file that holds (identity, text). */
  fileFor(identity: string, text: string): string {
    return this.pathOf(shardOf(identity), EmbeddingCache.key(identity, text));
  }

  async get(identity: string, text: string): Promise<Float32Array | undefined> {
    return (await this.getMany(identity, [text]))[0];
  }

  /** Row i is the cached vector of texts[i], or undefined for a miss. */
  async getMany(identity: string, texts: readonly string[]): Promise<(Float32Array | undefined)[]> {
    const shard = shardOf(identity);
    return mapLimited(texts, PARALLEL_IO, async (text) => {
      const key = EmbeddingCache.key(identity, text);
      const inMemory = this.recall(key);
      const vector = inMemory ?? (await this.read(this.pathOf(shard, key), key));
      if (vector) {
        this.stats.hits++;
        if (!inMemory) this.remember(key, vector);
      } else this.stats.misses++;
      return vector;
    });
  }

  async set(identity: string, text: string, vector: Float32Array): Promise<void> {
    await this.setMany(identity, [text], [vector]);
  }

  async setMany(identity: string, texts: readonly string[], vectors: readonly Float32Array[]): Promise<void> {
    if (texts.length !== vectors.length) throw new Error(`${texts.length} texts but ${vectors.length} vectors`);
    const shard = shardOf(identity);
    const made = new Set<string>();
    await mapLimited(texts, PARALLEL_IO, async (text, i) => {
      const key = EmbeddingCache.key(identity, text);
      this.remember(key, Float32Array.from(vectors[i]));
      const file = this.pathOf(shard, key);
      try {
        await this.write(file, key, vectors[i], made);
      } catch (error) {
        this.warn(`embedding cache: cannot store ${file} (${errorCode(error)}); the vector is used but not cached`);
      }
    });
  }

  private async write(file: string, key: string, vector: Float32Array, made: Set<string>): Promise<void> {
    const folder = path.dirname(file);
    if (!made.has(folder)) {
      await fs.promises.mkdir(folder, { recursive: true });
      made.add(folder);
    }
    const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await fs.promises.writeFile(temp, encode(key, vector));
      await fs.promises.rename(temp, file);
      this.stats.writes++;
    } catch (error) {
      await fs.promises.rm(temp, { force: true });
      // Windows refuses to replace a file another process has open: that process wrote the same vector.
      const code = (error as NodeJS.ErrnoException).code;
      if (!(code === 'EPERM' || code === 'EACCES' || code === 'EBUSY') || !isFile(file)) throw error;
    }
  }

  /** The vector of `key` kept in memory, now marked as the most recently used. */
  private recall(key: string): Float32Array | undefined {
    const vector = this.memory.get(key);
    if (vector) {
      this.memory.delete(key);
      this.memory.set(key, vector);
    }
    return vector;
  }

  private remember(key: string, vector: Float32Array): void {
    if (vector.byteLength > this.memoryLimit) return;
    const previous = this.memory.get(key);
    if (previous) {
      this.memory.delete(key);
      this.memoryUsed -= previous.byteLength;
    }
    this.memory.set(key, vector);
    this.memoryUsed += vector.byteLength;
    for (const [oldest, dropped] of this.memory) {
      if (this.memoryUsed <= this.memoryLimit) break;
      this.memory.delete(oldest);
      this.memoryUsed -= dropped.byteLength;
    }
  }

  private pathOf(shard: string, key: string): string {
    return path.join(this.dir, shard, key.slice(0, 2), `${key}.vec`);
  }

  private async read(file: string, key: string): Promise<Float32Array | undefined> {
    let bytes: Buffer;
    try {
      bytes = await fs.promises.readFile(file);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT') return undefined;
      this.stats.corrupt++;
      this.warn(`embedding cache: cannot read ${file} (${code}); treated as a miss`);
      return undefined;
    }
    const vector = decode(key, bytes);
    if (!vector) {
      this.stats.corrupt++;
      this.warn(`embedding cache: ${file} is corrupt; treated as a miss and recomputed`);
    }
    return vector;
  }
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function shardOf(identity: string): string {
  return createHash('sha256').update(identity).digest('hex').slice(0, 16);
}

function checksum(key: string, body: Buffer): Buffer {
  return createHash('sha256').update(key).update(body).digest();
}

export function encode(key: string, vector: Float32Array): Buffer {
  const body = Buffer.alloc(HEADER_BYTES + vector.length * 4);
  MAGIC.copy(body, 0);
  body.writeUInt32LE(vector.length, 4);
  if (LITTLE_ENDIAN) Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).copy(body, HEADER_BYTES);
  else for (let i = 0; i < vector.length; i++) body.writeFloatLE(vector[i], HEADER_BYTES + i * 4);
  return Buffer.concat([body, checksum(key, body)]);
}

/** The vector, or undefined when the bytes are not a whole, intact entry for `key`. */
export function decode(key: string, bytes: Buffer): Float32Array | undefined {
  if (bytes.length < HEADER_BYTES + CHECKSUM_BYTES || !bytes.subarray(0, 4).equals(MAGIC)) return undefined;
  const dim = bytes.readUInt32LE(4);
  if (bytes.length !== HEADER_BYTES + dim * 4 + CHECKSUM_BYTES) return undefined;
  const body = bytes.subarray(0, HEADER_BYTES + dim * 4);
  if (!checksum(key, body).equals(bytes.subarray(body.length))) return undefined;
  const vector = new Float32Array(dim);
  if (LITTLE_ENDIAN) Buffer.from(vector.buffer).set(body.subarray(HEADER_BYTES));
  else for (let i = 0; i < dim; i++) vector[i] = body.readFloatLE(HEADER_BYTES + i * 4);
  return vector;
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
