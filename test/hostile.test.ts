/**
 * Unit tests of the defences of issue 10 that the fuzz suites (test/fuzz.*.test.ts) reach only through the CLI:
 * user names as record keys, the worker's error stack kept out of messages, the one reader of user files, the
 * writability check and the text length limit.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { ProgressPrinter } from '../src/cli/progress';
import { UserError } from '../src/engine/errors';
import { MAX_TEXT_FILE_BYTES, readRegularFile } from '../src/engine/io/regularFile';
import { checkWritableFolder } from '../src/engine/io/writable';
import { ownValue, recordOf } from '../src/engine/records';
import { MAX_TEXT_CHARS } from '../src/inputs/limits';
import { parseQueries } from '../src/inputs/queries';
import { embedAll } from '../src/models/pipeline';
import { errorFromWorker } from '../src/models/workerProtocol';
import { tempDir } from './helpers/cli';

test('recordOf keeps __proto__ as a key and ownValue never finds inherited members', () => {
  const record = recordOf([['__proto__', 1], ['toString', 2], ['Retrieval', 3]]);
  assert.equal(JSON.stringify(record), '{"__proto__":1,"toString":2,"Retrieval":3}');
  assert.equal(Object.getPrototypeOf(record), Object.prototype);
  assert.equal(ownValue(record, '__proto__'), 1);
  assert.equal(ownValue({ a: 'x' }, 'toString'), undefined);
  assert.equal(ownValue({ a: 'x' }, 'constructor'), undefined);
  assert.equal(ownValue(undefined, 'a'), undefined);
});

test('an unexpected worker error: the message has no stack, the stack is kept for debugging', () => {
  const error = errorFromWorker({ type: 'error', message: 'Maximum call stack size exceeded', user: false, stack: 'RangeError: x\n    at f (a.js:1:2)' });
  assert.equal(error.message, 'Maximum call stack size exceeded');
  assert.match(error.stack ?? '', /at f \(a\.js:1:2\)/);
  assert.ok(errorFromWorker({ type: 'error', message: 'bad model', user: true }) instanceof UserError);
});

test('readRegularFile: a FIFO, /dev/zero and a folder are refused at once, naming the file; a file over the limit too', async () => {
  const dir = tempDir();
  const fifo = path.join(dir, 'fifo.txt');
  execFileSync('mkfifo', [fifo]);
  await assert.rejects(readRegularFile(fifo, MAX_TEXT_FILE_BYTES), new UserError('this is a named pipe (FIFO), not a regular file; only regular files are read', fifo));
  await assert.rejects(readRegularFile('/dev/zero', MAX_TEXT_FILE_BYTES), /\/dev\/zero: this is a character device/);
  await assert.rejects(readRegularFile(dir, MAX_TEXT_FILE_BYTES), /this is a folder; expected a file/);
  const big = path.join(dir, 'big.txt');
  fs.writeFileSync(big, 'x'.repeat(2000));
  await assert.rejects(readRegularFile(big, 1000), /big\.txt: the file is 0\.002 MiB; the limit is 0\.001 MiB/);
  assert.equal((await readRegularFile(big, 2000)).length, 2000);
  const loop = path.join(dir, 'loop.txt');
  fs.symlinkSync('loop.txt', loop);
  await assert.rejects(readRegularFile(loop, 10), /loop\.txt: too many symbolic links/);
});

test('readRegularFile into shared memory: the same bytes as a plain read, for any content and size', async () => {
  const dir = tempDir();
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 70_000 }), async (content) => {
      const file = path.join(dir, 'data.bin');
      fs.writeFileSync(file, content);
      const shared = await readRegularFile(file, MAX_TEXT_FILE_BYTES, { shared: true });
      assert.ok(shared.buffer instanceof SharedArrayBuffer);
      assert.ok(shared.equals(await readRegularFile(file, MAX_TEXT_FILE_BYTES)));
    }),
    { numRuns: 40 },
  );
});

test('readRegularFile into shared memory reads past the size the file had when opened (a file that grew)', { skip: process.platform !== 'linux' && 'needs /proc' }, async () => {
  // /proc files say they are 0 bytes long and then have content: the case of a file that grew after the size check.
  const status = await readRegularFile('/proc/self/status', MAX_TEXT_FILE_BYTES, { shared: true });
  assert.ok(status.buffer instanceof SharedArrayBuffer);
  assert.match(status.toString('utf8'), /^Name:.*\n[\s\S]*VmRSS:/);
  assert.match(status.toString('utf8'), /\n$/);
});

test('checkWritableFolder: a missing folder under a writable one passes and leaves nothing; a file or a loop on the way is named', async () => {
  const dir = tempDir();
  await checkWritableFolder(path.join(dir, 'a', 'b'), 'output folder');
  assert.deepEqual(fs.readdirSync(dir), []);
  fs.writeFileSync(path.join(dir, 'file'), '');
  await assert.rejects(checkWritableFolder(path.join(dir, 'file', 'sub'), 'output folder'), /output folder: .*file is not a folder/);
  await assert.rejects(checkWritableFolder(path.join(dir, 'file'), 'cache folder'), /cache folder: exists and is not a folder/);
  fs.symlinkSync('loop', path.join(dir, 'loop'));
  await assert.rejects(checkWritableFolder(path.join(dir, 'loop', 'x'), 'cache folder'), /is a symbolic link loop/);
});

test(`text length: ${MAX_TEXT_CHARS} characters pass, one more is refused with the line; embedAll refuses longer instructions too`, async () => {
  const ok = 'a'.repeat(MAX_TEXT_CHARS);
  assert.equal(parseQueries(`one\ntwo\n${ok}\n`, 'q.txt').queries[2], ok);
  assert.throws(() => parseQueries(`one\ntwo\nthree\n${ok}b\n`, 'q.txt'), new UserError('the query is 32,769 characters long; the limit is 32,768 (models read at most a few thousand tokens): shorten it', 'q.txt', 4));
  // Checked before any model is asked: this one fails the test if it is called.
  const model = { name: 'm', identity: async () => 'm', render: (_: string | null, q: string) => q, renderDocument: (text: string) => text, embed: async () => assert.fail('embedded'), dispose: async () => undefined };
  await assert.rejects(
    embedAll({ queries: ['a', 'b', 'c'], tasks: [{ name: 'Base', instruction: null }, { name: 'T', instruction: 'x'.repeat(MAX_TEXT_CHARS + 1) }], embedders: [model] }),
    new UserError('the instruction of task "T" is 32,769 characters long; the limit is 32,768 (models read at most a few thousand tokens): shorten it'),
  );
});

test('the CLI shows a wait before a retry on its own line: "retrying in 30 s: <what the server did>"', () => {
  let stderr = '';
  const printer = new ProgressPrinter({ stdout: () => undefined, stderr: (text) => void (stderr += text), signal: new AbortController().signal });
  printer.update({ kind: 'wait', model: 'bge-m3', done: 0, total: 0, waitSeconds: 30, reason: 'the server answered HTTP 429 Too Many Requests' });
  assert.equal(stderr, 'bge-m3: retrying in 30 s: the server answered HTTP 429 Too Many Requests\n');
});
