import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { CancelledError, UserError } from '../src/engine/errors';
import { packageRoot } from '../src/engine/io/paths';
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

test('timeout: a clear error after the retries', async () => {
  server.faults.push({ kind: 'hang' }, { kind: 'hang' });
  await rejectsWith(client({ timeoutMs: 200, retries: 1 }).embed(['x']), [`${server.baseUrl}/v1/embeddings`, 'no answer within 200 ms', 'after 2 attempts']);
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
