import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { CancelledError, UserError } from '../src/engine/errors';
import { packageRoot } from '../src/engine/io/paths';
import type { EmbedProgress } from '../src/models/embedder';
import { HttpEmbedder } from '../src/models/httpEmbedder';
import { createEmbedder } from '../src/models/registry';
import { createTransformersEmbedder, type TransformersEmbedder } from '../src/models/transformersEmbedder';
import { type EmbeddingsServer, startEmbeddingsServer } from './helpers/embeddingsServer';
import { cosine } from './helpers/vectors';

// The server answers with the real GloVe model (in-process transformers.js embedder).
const GLOVE = path.resolve(packageRoot(), '../shared/models/glove-6B-100d-sif-50k');
const TEXTS = ['a cat sits on the mat', 'a kitten is sitting on a rug', 'stock market crash', 'the weather in paris today', 'cats'];

let glove: TransformersEmbedder;
let server: EmbeddingsServer;

before(async () => {
  glove = await createTransformersEmbedder({ model: GLOVE, offline: true });
  server = await startEmbeddingsServer(glove);
});
after(async () => {
  await server.close();
  await glove.dispose();
});
beforeEach(() => {
  server.faults.length = 0;
  server.requests.length = 0;
});

function client(options: Partial<ConstructorParameters<typeof HttpEmbedder>[0]> = {}): HttpEmbedder {
  return new HttpEmbedder({ baseUrl: server.baseUrl, model: 'glove', batchSize: 2, backoffMs: 1, retries: 3, ...options });
}

async function rejectsWith(promise: Promise<unknown>, parts: (string | RegExp)[]): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof UserError, `not a UserError: ${String(error)}`);
    for (const part of parts) {
      if (typeof part === 'string') assert.ok(error.message.includes(part), `"${error.message}" lacks "${part}"`);
      else assert.match(error.message, part);
    }
    return true;
  });
}

test('embeds in batches, in input order, with the API key as a bearer token', async () => {
  const embedder = client({ apiKey: 'sk-test-123' });
  const vectors = await embedder.embed(TEXTS);
  const direct = await glove.embed(TEXTS);
  vectors.forEach((v, i) => assert.ok(cosine(v, direct[i]) > 0.999999, `row ${i}`));
  assert.deepEqual(server.requests.map((r) => r.inputs), [2, 2, 1]);
  assert.ok(server.requests.every((r) => r.authorization === 'Bearer sk-test-123' && r.model === 'glove'));
  assert.equal(embedder.url, `${server.baseUrl}/v1/embeddings`);
  assert.equal(client({ baseUrl: `${server.baseUrl}/v1/` }).url, `${server.baseUrl}/v1/embeddings`);
});

test('uses data[i].index, not the order of the data array', async () => {
  server.faults.push({ kind: 'reversed' });
  const [a, b] = await client().embed(TEXTS.slice(0, 2));
  const direct = await glove.embed(TEXTS.slice(0, 2));
  assert.ok(cosine(a, direct[0]) > 0.999999 && cosine(b, direct[1]) > 0.999999);
});

test('429 then success: retried, honouring Retry-After', async () => {
  server.faults.push({ kind: 'status', status: 429, retryAfter: '0.3' });
  const started = Date.now();
  const vectors = await client().embed(TEXTS.slice(0, 2));
  assert.equal(vectors.length, 2);
  assert.equal(server.requests.length, 2);
  // The retry came after the server's Retry-After (0.3 s), not after the 1 ms backoff.
  assert.ok(server.requests[1].at - started >= 250, `retried after ${server.requests[1].at - started} ms`);
});

test('500 every time: retries, then a clear error naming the URL and the status', async () => {
  server.faults.push(...Array.from({ length: 4 }, () => ({ kind: 'status' as const, status: 500 })));
  await rejectsWith(client({ retries: 3 }).embed(['x']), [`${server.baseUrl}/v1/embeddings`, 'HTTP 500', 'after 4 attempts', 'fault 500']);
  assert.equal(server.requests.length, 4);
});

test('400 is not retried', async () => {
  server.faults.push({ kind: 'status', status: 400 });
  await rejectsWith(client().embed(['x']), ['HTTP 400']);
  assert.equal(server.requests.length, 1);
});

test('a server that never answers: a clear error at the total deadline, not after retries', async () => {
  server.faults.push({ kind: 'hang' }, { kind: 'hang' });
  const started = Date.now();
  await rejectsWith(client({ timeoutMs: 300, retries: 3 }).embed(['x']), [
    `${server.baseUrl}/v1/embeddings`,
    'the server did not answer within the 0.3 s limit per request',
    '--timeout',
  ]);
  assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  assert.equal(server.requests.length, 1);
});

test('a server sending a byte a second: cut off at the deadline, saying it did not finish its answer', async () => {
  server.faults.push({ kind: 'trickle' });
  const started = Date.now();
  await rejectsWith(client({ timeoutMs: 1500 }).embed(['x']), ['answered HTTP 200 but did not finish sending its answer within the 1.5 s limit']);
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
});

test('429 with Retry-After beyond the deadline: gives up at once, saying what the server asked', async () => {
  server.faults.push({ kind: 'status', status: 429, retryAfter: '3600' });
  const started = Date.now();
  await rejectsWith(client({ timeoutMs: 2000 }).embed(['x']), [
    'the server answered HTTP 429 Too Many Requests',
    'asked to retry in 3600 s',
    'giving up after 1 attempt',
    'exceed the 2 s limit per request',
  ]);
  assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
});

test('waits before a retry are reported as progress: "retrying in 1 s: the server answered HTTP 429"', async () => {
  server.faults.push({ kind: 'status', status: 429, retryAfter: '1' });
  const waits: EmbedProgress[] = [];
  const vectors = await client().embed(['x'], { onProgress: (p) => p.kind === 'wait' && waits.push(p) });
  assert.equal(vectors.length, 1);
  assert.equal(waits.length, 1);
  assert.equal(waits[0].waitSeconds, 1);
  assert.match(waits[0].reason ?? '', /^the server answered HTTP 429 Too Many Requests/);
});

test('a finite number too large for float32 (1e39) is a clear UserError', async () => {
  server.faults.push({ kind: 'huge' });
  await rejectsWith(client().embed(TEXTS.slice(0, 2)), ['data[0].embedding[0] = 1e+39, which overflows float32']);
});

test('malformed JSON, wrong dimension, wrong count: clear errors', async () => {
  server.faults.push({ kind: 'malformed' });
  await rejectsWith(client().embed(['x']), ['returned malformed JSON']);
  server.faults.push({ kind: 'wrongDimension' });
  await rejectsWith(client().embed(TEXTS.slice(0, 2)), ['data[1].embedding with 101 dimensions, data[0] has 100']);
  server.faults.push({ kind: 'wrongCount' });
  await rejectsWith(client().embed(TEXTS.slice(0, 2)), ['returned 1 embeddings for 2 inputs']);
});

test('a server that is not there: error naming the URL', async () => {
  const closed = await startEmbeddingsServer(glove);
  await closed.close();
  await rejectsWith(new HttpEmbedder({ baseUrl: closed.baseUrl, model: 'm', retries: 0 }).embed(['x']), [`${closed.baseUrl}/v1/embeddings`, 'request failed']);
});

test('cancellation during a retry wait stops at once', async () => {
  server.faults.push({ kind: 'status', status: 503, retryAfter: '30' });
  const controller = new AbortController();
  const run = client().embed(['x'], { signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(run, CancelledError);
});

test('registry: openai:NAME@BASEURL, family template from the model name, identity', async () => {
  const embedder = await createEmbedder(`openai:Qwen/Qwen3-Embedding-8B@${server.baseUrl}`, { apiKey: 'k' });
  assert.equal(embedder.name, 'Qwen/Qwen3-Embedding-8B');
  assert.equal(embedder.render('Find it', 'q'), 'Instruct: Find it\nQuery:q');
  const generic = await createEmbedder(`openai:glove@${server.baseUrl}`);
  assert.equal(generic.render('Find it', 'q'), 'Find it q');
  assert.notEqual(await embedder.identity(), await generic.identity());
  await assert.rejects(createEmbedder('openai:glove'), /expected openai:NAME@BASEURL/);
  await assert.rejects(createEmbedder('openai:glove@https://api.example.com', { offline: true }), /offline mode allows only endpoints on this machine/);
});
