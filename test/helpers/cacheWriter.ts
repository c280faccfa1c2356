/**
 * Child process for the cache tests: writes vectors for texts `${prefix}${i}`, i in [from, to), `rounds` times,
 * one entry per write, printing "wrote i" after each. Usage: node cacheWriter.js DIR IDENTITY PREFIX FROM TO DIM ROUNDS
 */
import { EmbeddingCache } from '../../src/models/cache';
import { deterministicVector } from './vectors';

async function main(): Promise<void> {
  const [dir, identity, prefix, from, to, dim, rounds] = process.argv.slice(2);
  const cache = new EmbeddingCache(dir);
  for (let round = 0; round < Number(rounds); round++) {
    for (let i = Number(from); i < Number(to); i++) {
      const text = `${prefix}${i}`;
      await cache.set(identity, text, deterministicVector(text, Number(dim)));
      process.stdout.write(`wrote ${i}\n`);
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
