/**
 * results.json's format key and provenance, and telling an analysis's own output files from query files.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyze } from '../src/engine/method/analyze';
import { readBundle } from '../src/engine/io/bundle';
import { displacementCsv, procrustesCsv, resultsJson } from '../src/engine/io/outputs';
import { analysisOutputKind, type Provenance, RESULTS_FORMAT } from '../src/engine/io/provenance';
import { packageRoot } from '../src/engine/io/paths';
import { renderReport } from '../src/report/report';
import * as path from 'node:path';

const provenance: Provenance = {
  tool: { name: 'instruction-lens', version: '0.1.0' },
  queryFile: '/w/queries.txt',
  instructions: { source: '/w/set.instructions.json', tasks: [{ name: 'Base', instruction: null }, { name: 'STS', instruction: 'Find <similar> text' }] },
  evaluationFiles: [],
  models: [{ id: '/models/m-a', name: 'm-a', identity: 'transformers|m-a|sha256:abc|fp32|mean' }],
  options: { k: 200, points: 'flatten', mds: 'classical', seed: 0 },
};

test('results.json: the format key first, provenance last, the same bytes for the same result', async () => {
  const result = await analyze(await readBundle(path.join(packageRoot(), 'test', 'fixtures', 'bundles', 'good')));
  const text = resultsJson({ ...result, provenance });
  const keys = Object.keys(JSON.parse(text) as object);
  assert.equal(keys[0], 'format');
  assert.equal(keys.at(-1), 'provenance');
  assert.equal((JSON.parse(text) as { format: string }).format, RESULTS_FORMAT);
  assert.equal(resultsJson({ ...result, provenance }), text, 'byte-identical');
  assert.doesNotMatch(text, /"date"|\d{4}-\d\d-\d\dT/, 'no date');
  // Read back and written again: still the same bytes (format is not doubled).
  assert.equal(resultsJson(JSON.parse(text)), text);
  const report = renderReport({ ...result, provenance }, { plotlyJs: '', reportJs: '' });
  assert.match(report, /<h2>Provenance<\/h2>/);
  assert.match(report, /Find &lt;similar&gt; text/);
  assert.match(report, /sha256:abc/);

  assert.equal(analysisOutputKind('/w/results.json', text), 'results');
  assert.equal(analysisOutputKind('/w/x.json', '{"tasks": []}'), undefined);
  assert.equal(analysisOutputKind('/w/instruction-lens-displacement.csv', displacementCsv(result)), 'table');
  assert.equal(analysisOutputKind('/w/procrustes.csv', procrustesCsv(result)), 'table');
  assert.equal(analysisOutputKind('/w/report.html', report.slice(0, 4096)), 'report');
  assert.equal(analysisOutputKind('/w/queries.csv', 'id,text\nq1,a query\n'), undefined);
  assert.equal(analysisOutputKind('/w/models.csv', 'model,score\nbge,high\n'), undefined);
});
