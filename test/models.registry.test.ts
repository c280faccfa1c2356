import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { UserError } from '../src/engine/errors';
import { packageRoot } from '../src/engine/io/paths';
import { createEmbedder, parseEndpointSpec } from '../src/models/registry';

const GLOVE = path.resolve(packageRoot(), '../shared/models/glove-6B-100d-sif-50k');

test('spec kinds and display names (nothing is loaded until embed)', async () => {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'il-registry-'));
  try {
    const lite = await createEmbedder('use-lite');
    assert.equal(lite.name, 'use-lite');
    await lite.dispose();
    const folder = await createEmbedder(GLOVE, { offline: true, cacheDir });
    assert.equal(folder.name, 'glove-6B-100d-sif-50k');
    await folder.dispose();
    const relative = await createEmbedder(path.relative(process.cwd(), GLOVE), { offline: true, cacheDir });
    assert.equal(relative.name, 'glove-6B-100d-sif-50k');
    assert.equal(await relative.identity(), await folder.identity());
    const hub = await createEmbedder('BAAI/bge-small-en-v1.5', { cacheDir, dtype: 'q8' });
    assert.equal(hub.name, 'BAAI/bge-small-en-v1.5');
    assert.match(await hub.identity(), /^transformers\.js\|hub:BAAI\/bge-small-en-v1\.5@main\|dtype=q8\|/);
    assert.equal(hub.render('Represent this sentence for searching relevant passages: ', 'q'), 'Represent this sentence for searching relevant passages: q');
    await hub.dispose();
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('bad specs: clear UserErrors', async () => {
  await assert.rejects(createEmbedder('  '), /empty model id/);
  await assert.rejects(createEmbedder(GLOVE, { dtype: 'int2' }), /unknown dtype "int2"/);
  await assert.rejects(createEmbedder('not a model id!'), (e: unknown) => e instanceof UserError && /neither a model folder nor a Hugging Face Hub id/.test(e.message));
  await assert.rejects(createEmbedder('./no/such/folder'), /model folder not found/);
  assert.throws(() => parseEndpointSpec('openai:model@ftp://x'), /expected openai:NAME@BASEURL/);
  assert.deepEqual(parseEndpointSpec('openai:nomic-embed-text:latest@http://127.0.0.1:11434'), {
    model: 'nomic-embed-text:latest',
    baseUrl: 'http://127.0.0.1:11434',
  });
  assert.equal(parseEndpointSpec('BAAI/bge-m3'), undefined);
});
