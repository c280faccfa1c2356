/**
 * Property-based fuzzing of `instruction-lens run` / `embed` with hostile inputs and faults, one property per class
 * of issue 10: object-property task names, text lengths, task names differing in case or holding a line break,
 * special files, encodings, unwritable output and cache folders, cache corruption, HTTP faults. Every case ends in
 * exit 2 with a message naming the file (checked before any embedding where the issue says so), or in success with
 * the same results. In-process (runCli) with a sample of real processes; the real GloVe model; tallies at the end.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { packageRoot } from '../src/engine/io/paths';
import type { AnalysisResult } from '../src/engine/types';
import { MAX_TEXT_CHARS } from '../src/inputs/limits';
import { createTransformersEmbedder, type TransformersEmbedder } from '../src/models/transformersEmbedder';
import { type EmbeddingsServer, type Fault, startEmbeddingsServer } from './helpers/embeddingsServer';
import { allTallies, caseDir, HOSTILE_NAMES, ORDINARY_NAMES, runCase, summary } from './helpers/fuzz';

const SEED = 20261201;
const GLOVE = path.resolve(packageRoot(), '../shared/models/glove-6B-100d-sif-50k');
const QUERIES = ['a cat sits on the mat', 'stock market crash', 'the weather in paris today', 'a kitten on a rug', 'rain in the city'];
const INSTRUCTIONS = ['find passages that answer the question', 'classify the topic', 'find similar sentences'];

function writeQueries(dir: string, lines: string[] = QUERIES): string {
  const file = path.join(dir, 'queries.txt');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

function writeInstructions(dir: string, names: string[], instructions = INSTRUCTIONS): string {
  const file = path.join(dir, 'set.instructions.json');
  const tasks = names.map((name, i) => ({ name, instruction: instructions[i % instructions.length] }));
  fs.writeFileSync(file, JSON.stringify({ tasks }, null, 2) + '\n');
  return file;
}

function readResults(dir: string): AnalysisResult {
  return JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')) as AnalysisResult;
}

const gloveArgs = (cache: string): string[] => ['--models', GLOVE, '--offline', '--cache', cache];

after(() => {
  console.log(`fuzz.inputs tallies:\n${summary('inputs:')}\n${summary('outputs:')}\n${summary('cache:')}\n${summary('http:')}`);
  for (const [klass, tally] of allTallies()) {
    assert.equal(tally.crashes + tally.stackTraces + tally.hangs + tally.wrongVerdicts + tally.changedResults, 0, klass);
  }
});

describe('fuzz: inputs', () => {
  const shared = caseDir();
  const cache = path.join(shared, 'cache');

  test('object-property task names in an instruction set: the same numbers as ordinary names', async () => {
    let real = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.constantFrom(...HOSTILE_NAMES, ...ORDINARY_NAMES), { minLength: 1, maxLength: 3, comparator: (a, b) => a.toLowerCase() === b.toLowerCase() }),
        async (names) => {
          const dir = caseDir();
          const queries = writeQueries(dir);
          const plain = path.join(dir, 'plain');
          fs.mkdirSync(plain);
          const args = (instructions: string, out: string) => ['run', '--queries', queries, '--instructions', instructions, ...gloveArgs(cache), '--out', out];
          await runCase('inputs: plain task names', args(writeInstructions(plain, names.map((_, i) => `task${i}`)), path.join(dir, 'out-plain')), { reject: false });
          await runCase('inputs: object-property task names', args(writeInstructions(dir, names), path.join(dir, 'out')), {
            reject: false,
            check: () => {
              const result = readResults(path.join(dir, 'out'));
              const reference = readResults(path.join(dir, 'out-plain'));
              assert.deepEqual(result.tasks, ['Base', ...names]);
              assert.deepEqual(Object.keys(result.instructions ?? {}).sort(), [...names].sort());
              for (const [i, name] of names.entries()) assert.equal(result.instructions?.[name], INSTRUCTIONS[i % INSTRUCTIONS.length]);
              assert.deepEqual(result.points.map((p) => [p.x, p.y]), reference.points.map((p) => [p.x, p.y]));
              assert.deepEqual(result.displacement.map((d) => d.meanCosineDistance), reference.displacement.map((d) => d.meanCosineDistance));
            },
          }, { realProcess: real++ < 1 });
        },
      ),
      { numRuns: 8, seed: SEED, examples: [[['__proto__', 'toString', 'constructor']]] },
    );
  });

  test(`text length: a query or instruction above ${MAX_TEXT_CHARS} characters is rejected naming file and line, one at the limit is embedded`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(MAX_TEXT_CHARS - 1, MAX_TEXT_CHARS, MAX_TEXT_CHARS + 1, 100_000, 1_000_000),
        fc.boolean(),
        fc.boolean(),
        fc.nat(QUERIES.length - 1),
        async (length, oneWord, inInstruction, at) => {
          const dir = caseDir();
          const unit = oneWord ? 'a' : 'cat ';
          const text = unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
          const lines = [...QUERIES];
          // A trailing space would be trimmed: end every long text on a letter.
          const long = text.replace(/ $/, 'a');
          if (!inInstruction) lines[at] = long;
          const queries = writeQueries(dir, lines);
          const instructions = path.join(dir, 'set.instructions.yaml');
          fs.writeFileSync(instructions, `tasks:\n  - name: Retrieval\n    instruction: ${inInstruction ? long : 'find it'}\n`);
          const file = inInstruction ? `${instructions}:3` : `${queries}:${at + 1}`;
          const args = ['embed', '--queries', queries, '--instructions', instructions, ...gloveArgs(path.join(dir, 'cache')), '--out', path.join(dir, 'out')];
          await runCase('inputs: text length', args, length > MAX_TEXT_CHARS ? { reject: true, names: [file], problem: /characters long; the limit is 32,768/ } : { reject: false });
        },
      ),
      { numRuns: 12, seed: SEED, examples: [[1_000_000, true, false, 2], [1_000_000, true, true, 0]] },
    );
  });

  test('task names differing only in case or holding a line break: rejected naming the instruction file and line, before any work', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('case', 'newline'),
        fc.constantFrom('json', 'yaml'),
        fc.stringMatching(/^[A-Za-z]{2,8}$/),
        fc.nat(3),
        async (kind, format, name, before) => {
          fc.pre(name.toLowerCase() !== 'base' && name !== name.toUpperCase());
          const dir = caseDir();
          const names = ['Alpha', 'Beta', 'Gamma'].slice(0, before);
          const bad = kind === 'case' ? [name, name.toUpperCase()] : [`${name}\nsecond line`];
          const all = [...names, ...bad];
          const file = path.join(dir, `set.instructions.${format}`);
          const tasks = all.map((n) => ({ name: n, instruction: 'find it' }));
          const text = format === 'json' ? JSON.stringify({ tasks }, null, 2) : `tasks:\n${tasks.map((t) => `  - name: ${JSON.stringify(t.name)}\n    instruction: find it\n`).join('')}`;
          fs.writeFileSync(file, text);
          const badIndex = all.length - 1;
          const line = text.split('\n').findIndex((l) => l.includes(JSON.stringify(all[badIndex]))) + 1;
          const args = ['run', '--queries', writeQueries(dir), '--instructions', file, ...gloveArgs(path.join(dir, 'cache')), '--out', path.join(dir, 'out')];
          await runCase('inputs: task names (case, line break)', args, {
            reject: true,
            names: [`${file}:${line}`],
            problem: kind === 'case' ? /differ only in case/ : /contains a line break/,
          });
          assert.ok(!fs.existsSync(path.join(dir, 'cache', 'embeddings')), 'checked before any embedding: nothing was cached');
        },
      ),
      { numRuns: 12, seed: SEED },
    );
  });

  test('special files as query file or instruction set (FIFO, /dev/zero, a folder, a link loop, a dangling link): exit 2 naming it, no hang', async () => {
    let real = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('queries', 'instructions'), fc.constantFrom('fifo', 'zero', 'folder', 'loop', 'dangling'), async (which, kind) => {
        const dir = caseDir();
        const file = path.join(dir, which === 'queries' ? 'q.txt' : 'set.instructions.json');
        if (kind === 'fifo') execFileSync('mkfifo', [file]);
        if (kind === 'zero') fs.symlinkSync('/dev/zero', file);
        if (kind === 'folder') fs.mkdirSync(file);
        if (kind === 'loop') fs.symlinkSync(path.basename(file), file);
        if (kind === 'dangling') fs.symlinkSync('nowhere.txt', file);
        const queries = which === 'queries' ? file : writeQueries(dir);
        const instructions = which === 'instructions' ? file : writeInstructions(dir, ['Retrieval']);
        const args = ['run', '--queries', queries, '--instructions', instructions, ...gloveArgs(path.join(dir, 'cache')), '--out', path.join(dir, 'out')];
        await runCase('inputs: special files', args, { reject: true, names: [file] }, { timeoutMs: 15_000, realProcess: real++ < 2 });
      }),
      { numRuns: 12, seed: SEED },
    );
  });

  test('encodings: latin-1, UTF-16 or NUL bytes in a query file or instruction set, named with the line', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('latin1', 'utf16', 'nul'), fc.constantFrom('queries', 'instructions'), fc.nat(QUERIES.length - 1), async (encoding, which, at) => {
        const dir = caseDir();
        let file: string;
        let line: number | undefined;
        if (which === 'queries') {
          const lines = [...QUERIES];
          lines[at] = `caf\u00e9 ${lines[at]}`;
          file = path.join(dir, 'q.txt');
          line = at + 1;
          const text = lines.join('\n') + '\n';
          fs.writeFileSync(file, encoding === 'latin1' ? Buffer.from(text, 'latin1') : encoding === 'utf16' ? Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]) : Buffer.from(text.replace('caf\u00e9', 'caf\u0000'), 'utf8'));
        } else {
          file = writeInstructions(dir, ['Retrieval'], ['caf\u00e9 au lait']);
          const text = fs.readFileSync(file, 'utf8');
          line = text.split('\n').findIndex((l) => l.includes('caf')) + 1;
          fs.writeFileSync(file, encoding === 'latin1' ? Buffer.from(text, 'latin1') : encoding === 'utf16' ? Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]) : Buffer.from(text.replace('caf\u00e9', 'caf\u0000'), 'utf8'));
        }
        const queries = which === 'queries' ? file : writeQueries(dir);
        const instructions = which === 'instructions' ? file : writeInstructions(dir, ['Retrieval']);
        const args = ['run', '--queries', queries, '--instructions', instructions, ...gloveArgs(path.join(dir, 'cache')), '--out', path.join(dir, 'out')];
        await runCase('inputs: encodings', args, { reject: true, names: [encoding === 'utf16' ? file : `${file}:${line}`] });
      }),
      { numRuns: 12, seed: SEED },
    );
  });
});

describe('fuzz: output and cache folders', () => {
  test('unwritable output, bundle and cache folders are refused before any embedding, naming the folder', async () => {
    let real = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('out is a file', 'out parent is a file', 'out is a link loop', 'results.json is a folder', 'embeddings is a file', 'cache is a file', 'cache/embeddings is a link loop', 'cache/models is a dangling link', 'embeddings holds a foreign file (--force)'),
        async (kind) => {
          const dir = caseDir();
          let out = path.join(dir, 'out');
          const cache = path.join(dir, 'cache');
          let named = out;
          const extra: string[] = [];
          if (kind === 'out is a file') fs.writeFileSync(out, 'x');
          if (kind === 'out parent is a file') {
            fs.writeFileSync(path.join(dir, 'parent'), 'x');
            out = named = path.join(dir, 'parent', 'out');
          }
          if (kind === 'out is a link loop') fs.symlinkSync('out', out);
          if (kind === 'results.json is a folder') {
            fs.mkdirSync(path.join(out, 'results.json'), { recursive: true });
            extra.push('--force');
          }
          if (kind === 'embeddings is a file') {
            fs.mkdirSync(out);
            fs.writeFileSync(path.join(out, 'embeddings'), 'x');
            named = path.join(out, 'embeddings');
          }
          if (kind === 'embeddings holds a foreign file (--force)') {
            fs.mkdirSync(path.join(out, 'embeddings'), { recursive: true });
            fs.writeFileSync(path.join(out, 'embeddings', 'notes.txt'), 'mine');
            named = path.join(out, 'embeddings', 'notes.txt');
            extra.push('--force');
          }
          if (kind === 'cache is a file') {
            fs.writeFileSync(cache, 'x');
            named = cache;
          }
          if (kind === 'cache/embeddings is a link loop') {
            fs.mkdirSync(cache);
            fs.symlinkSync('embeddings', path.join(cache, 'embeddings'));
            named = path.join(cache, 'embeddings');
          }
          if (kind === 'cache/models is a dangling link') {
            fs.mkdirSync(cache);
            fs.symlinkSync('nowhere', path.join(cache, 'models'));
            named = path.join(cache, 'models');
          }
          const args = ['run', '--queries', writeQueries(dir), '--instructions', writeInstructions(dir, ['Retrieval']), ...gloveArgs(cache), '--out', out, ...extra];
          await runCase('outputs: unwritable folders', args, { reject: true, names: [named] }, { realProcess: real++ < 2 });
          assert.ok(!fs.existsSync(path.join(dir, 'cache', 'embeddings')) || kind.startsWith('cache'), 'nothing was embedded');
        },
      ),
      { numRuns: 16, seed: SEED, examples: [['embeddings holds a foreign file (--force)'], ['results.json is a folder']] },
    );
  });

  test('read-only output or cache folder (a real process, as an unprivileged user when run as root)', async (t) => {
    for (const which of ['out', 'cache'] as const) {
      const dir = caseDir();
      fs.chmodSync(dir, 0o755);
      const readOnly = path.join(dir, 'readonly');
      fs.mkdirSync(readOnly, { mode: 0o555 });
      const queries = writeQueries(dir);
      const instructions = writeInstructions(dir, ['Retrieval']);
      const out = which === 'out' ? path.join(readOnly, 'out') : path.join(dir, 'out');
      const cacheDir = which === 'cache' ? path.join(readOnly, 'cache') : path.join(dir, 'cache');
      if (which === 'out') fs.mkdirSync(cacheDir, { mode: 0o777 });
      else fs.mkdirSync(out, { mode: 0o777 });
      fs.chmodSync(which === 'out' ? cacheDir : out, 0o777);
      const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
      const run = spawnSync(process.execPath, [path.join(packageRoot(), 'bin', 'instruction-lens.js'), 'run', '--queries', queries, '--instructions', instructions, ...gloveArgs(cacheDir), '--out', out], {
        ...asNobody,
        encoding: 'utf8',
        env: { ...process.env, HOME: dir },
        timeout: 30_000,
      });
      if (run.error) {
        t.diagnostic(`cannot run as an unprivileged user: ${run.error.message}`);
        continue;
      }
      assert.equal(run.status, 2, run.stderr);
      assert.match(run.stderr, new RegExp(`${which === 'out' ? 'output' : 'cache'} folder.*cannot create files in ${readOnly.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(permission denied\\)`));
      assert.doesNotMatch(run.stderr, /unexpected error|\n\s+at /);
    }
  });
});

describe('fuzz: cache corruption', () => {
  const reference = caseDir();
  const referenceCache = path.join(reference, 'cache');
  let referenceResults: Buffer;
  let entries: string[];
  const queriesFile = path.join(reference, 'queries.txt');

  before(async () => {
    writeQueries(reference);
    writeInstructions(reference, ['Retrieval', 'STS']);
    await runCase('cache: reference run', ['run', '--queries', queriesFile, '--instructions', path.join(reference, 'set.instructions.json'), ...gloveArgs(referenceCache), '--out', path.join(reference, 'out')], { reject: false });
    referenceResults = fs.readFileSync(path.join(reference, 'out', 'results.json'));
    entries = (fs.readdirSync(path.join(referenceCache, 'embeddings'), { recursive: true }) as string[]).filter((f) => f.endsWith('.vec'));
  });

  test('corrupted entries (flipped byte, truncated, empty, a folder, a link loop, garbage) are misses with a warning; results.json is byte-identical', async () => {
    let real = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), fc.constantFrom('flip', 'truncate', 'empty', 'folder', 'loop', 'garbage', 'unreadable shard')), { minLength: 1, maxLength: 4 }),
        async (damages) => {
          const dir = caseDir();
          const cache = path.join(dir, 'cache');
          fs.cpSync(referenceCache, cache, { recursive: true, verbatimSymlinks: true });
          for (const [at, kind] of damages) {
            const file = path.join(cache, 'embeddings', entries[at % entries.length]);
            if (!fs.existsSync(file) || !fs.lstatSync(file).isFile()) continue;
            const bytes = fs.readFileSync(file);
            if (kind === 'flip') bytes[at % bytes.length] ^= 1 << (at % 8);
            if (kind === 'flip' || kind === 'truncate' || kind === 'empty' || kind === 'garbage') {
              fs.writeFileSync(file, kind === 'flip' ? bytes : kind === 'truncate' ? bytes.subarray(0, at % bytes.length) : kind === 'empty' ? Buffer.alloc(0) : Buffer.from('not a vector'));
            } else if (kind === 'folder') {
              fs.rmSync(file);
              fs.mkdirSync(file);
            } else if (kind === 'loop') {
              fs.rmSync(file);
              fs.symlinkSync(path.basename(file), file);
            } else {
              // The shard folder replaced by a file: reads fail with ENOTDIR, writes cannot make it.
              const shard = path.dirname(file);
              fs.rmSync(shard, { recursive: true });
              fs.writeFileSync(shard, 'x');
            }
          }
          const out = path.join(dir, 'out');
          await runCase('cache: corrupted entries', ['run', '--queries', queriesFile, '--instructions', path.join(reference, 'set.instructions.json'), ...gloveArgs(cache), '--out', out], {
            reject: false,
            check: () => assert.ok(fs.readFileSync(path.join(out, 'results.json')).equals(referenceResults), 'results.json changed'),
          }, { realProcess: real++ < 1 });
        },
      ),
      { numRuns: 12, seed: SEED },
    );
  });
});

describe('fuzz: HTTP faults', () => {
  let glove: TransformersEmbedder;
  let server: EmbeddingsServer;
  before(async () => {
    glove = await createTransformersEmbedder({ model: GLOVE, offline: true });
    await glove.embed(['warm up']); // the server answers at once, within the cases' short deadline
    server = await startEmbeddingsServer(glove);
  });
  after(async () => {
    await server.close();
    await glove.dispose();
  });

  test('a server that hangs, trickles, asks to retry in an hour, fails, or answers 1e39: exit 2 naming the URL within the deadline', async () => {
    let real = 0;
    const faults: Record<string, { fault: Fault; problem: RegExp }> = {
      hang: { fault: { kind: 'hang' }, problem: /did not answer within the 2 s limit/ },
      trickle: { fault: { kind: 'trickle' }, problem: /did not finish sending its answer within the 2 s limit/ },
      'retry in an hour': { fault: { kind: 'status', status: 429, retryAfter: '3600' }, problem: /asked to retry in 3600 s; giving up/ },
      'always 503': { fault: { kind: 'status', status: 503 }, problem: /HTTP 503 Service Unavailable.*after 2 attempts/ },
      '1e39': { fault: { kind: 'huge' }, problem: /overflows float32/ },
      malformed: { fault: { kind: 'malformed' }, problem: /malformed JSON/ },
    };
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(faults)), async (name) => {
        const { fault, problem } = faults[name];
        server.faults.length = 0;
        server.faults.push(fault, fault, fault);
        const dir = caseDir();
        const args = ['embed', '--queries', writeQueries(dir), '--instructions', writeInstructions(dir, ['Retrieval']), '--models', `openai:glove@${server.baseUrl}`, '--cache', path.join(dir, 'cache'), '--timeout', '2', '--retries', '1', '--out', path.join(dir, 'out')];
        await runCase('http: faults', args, { reject: true, names: [`${server.baseUrl}/v1/embeddings`], problem }, { timeoutMs: 10_000, realProcess: real++ < 2 });
      }),
      { numRuns: 10, seed: SEED },
    );
  });
});
