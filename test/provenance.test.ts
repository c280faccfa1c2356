/**
 * results.json's format key and provenance, and telling an analysis's own output files from query files.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyze } from '../src/engine/method/analyze';
import { readBundle } from '../src/engine/io/bundle';
import { displacementCsv, procrustesCsv, resultsJson } from '../src/engine/io/outputs';
import { analysisOutputKind, csvProvenanceLines, type Provenance, RESULTS_FORMAT } from '../src/engine/io/provenance';
import { packageRoot } from '../src/engine/io/paths';
import { renderReport } from '../src/report/report';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import type { AnalysisResult } from '../src/engine/types';

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
  const report = renderReport({ ...result, provenance }, { plotlyJs: new Uint8Array(0), reportJs: '' }).toString('utf8');
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

const SAMPLES = path.join(packageRoot(), 'test', 'fixtures', 'csv-provenance');

/**
 * The good bundle's result (seed 3) as committed in result.json, so that the CSV samples test the writers alone: the
 * analysis's own numbers are tested against numpy elsewhere, and they differ in the last digits between the matrix
 * kernels (OpenBLAS or onnxruntime). INSTRUCTION_LENS_WRITE_FIXTURES=1 writes it again from an analysis.
 */
async function committedResult(): Promise<AnalysisResult> {
  const file = path.join(SAMPLES, 'result.json');
  if (process.env.INSTRUCTION_LENS_WRITE_FIXTURES === '1') {
    const result = await analyze(await readBundle(path.join(packageRoot(), 'test', 'fixtures', 'bundles', 'good')), { seed: 3 });
    fs.writeFileSync(file, resultsJson({ ...result, provenance }));
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as AnalysisResult;
}

/** That result with a model name and an instruction that CSV and comment readers must not cut. */
async function hostileResult(): Promise<AnalysisResult> {
  const result = await committedResult();
  const rename = (name: string): string => (name === 'm-a' ? 'm-a #1, "x"' : name);
  return {
    ...result,
    models: result.models.map(rename),
    reference: rename(result.reference),
    displacement: result.displacement.map((row) => ({ ...row, model: rename(row.model) })),
    provenance: {
      ...provenance,
      instructions: { source: '/w/set #2.instructions.yaml', tasks: [{ name: 'Base', instruction: null }, { name: 'STS', instruction: 'Line one\n# not a comment, "quoted"' }] },
      evaluationFiles: ['/w/pairs.tsv'],
      models: [{ id: '/models/m-a', name: 'm-a #1, "x"', identity: 'transformers|m-a|sha256:abc|fp32|mean' }, { id: 'm-B', name: 'm-B', identity: 'bundle|m-B' }],
      options: { ...provenance.options, seed: 3 },
    },
  };
}

test('CSV tables: provenance as leading "# key: JSON" lines, the same bytes each time, no date; read by csv-parse and pandas', async () => {
  const result = await hostileResult();
  const tables = { 'displacement.csv': displacementCsv(result), 'procrustes.csv': procrustesCsv(result) };
  if (process.env.INSTRUCTION_LENS_WRITE_FIXTURES === '1') {
    for (const [name, text] of Object.entries(tables)) fs.writeFileSync(path.join(SAMPLES, name), text);
  }
  const again = await hostileResult();
  assert.equal(displacementCsv(again), tables['displacement.csv'], 'byte-identical');
  assert.doesNotMatch(tables['displacement.csv'], /date|\d{4}-\d\d-\d\dT/, 'no date');
  const expectedComments = (table: string): [string, unknown][] => [
    ['format', `instruction-lens/${table}@1`],
    ['tool', 'instruction-lens 0.1.0'],
    ['query_file', '/w/queries.txt'],
    ['instruction_set', '/w/set #2.instructions.yaml'],
    ['task', { name: 'Base', instruction: null }],
    ['task', { name: 'STS', instruction: 'Line one\n# not a comment, "quoted"' }],
    ['evaluation_file', '/w/pairs.tsv'],
    ['model', { name: 'm-a #1, "x"', id: '/models/m-a', identity: 'transformers|m-a|sha256:abc|fp32|mean' }],
    ['model', { name: 'm-B', id: 'm-B', identity: 'bundle|m-B' }],
    ['n', result.n],
    ['k', result.k],
    ['points', result.pointsMode],
    ['mds', result.mdsMethod],
    ['reference', result.reference],
    ['seed', 3],
  ];
  for (const [name, text] of Object.entries(tables)) {
    // The committed samples are these bytes (pandas read them: test/fixtures/read_csv_provenance_with_pandas.py).
    assert.equal(fs.readFileSync(path.join(SAMPLES, name), 'utf8'), text, `${name} changed: rewrite the samples and run the fixture script`);
    const comments = text.split('\r\n').filter((line) => line.startsWith('#'));
    assert.deepEqual(comments, csvProvenanceLines(name === 'displacement.csv' ? 'displacement' : 'procrustes', result));
    assert.deepEqual(
      comments.map((line) => { const at = line.indexOf(': '); return [line.slice(2, at), JSON.parse(line.slice(at + 2))]; }),
      expectedComments(name.replace('.csv', '')),
    );
  }
  const pandas = JSON.parse(fs.readFileSync(path.join(SAMPLES, 'pandas.json'), 'utf8')) as Record<string, { columns: string[]; rows: (string | number)[][]; comments: [string, unknown][] }>;
  const displacement = pandas['displacement.csv'];
  assert.deepEqual(displacement.columns, ['model', 'task', 'meanCosineDistance', 'medianCosineDistance', 'p90CosineDistance', 'trajectoryLength', 'shiftFraction', 'neighbourOverlap']);
  assert.deepEqual(displacement.rows, result.displacement.map((row) => displacement.columns.map((column) => row[column as keyof typeof row])));
  assert.deepEqual(displacement.comments, expectedComments('displacement'));
  const procrustes = pandas['procrustes.csv'];
  assert.deepEqual(procrustes.columns, ['model', ...result.models]);
  assert.deepEqual(procrustes.rows, result.models.map((model, i) => [model, ...result.procrustesDistance[i]]));
  assert.deepEqual(procrustes.comments, expectedComments('procrustes'));
  // csv-parse, with comments skipped, reads the same table.
  const rows = parseCsv(tables['procrustes.csv'], { comment: '#' }) as string[][];
  assert.deepEqual(rows[0], ['model', ...result.models]);
  // Telling analysis outputs from query files: by the format line, and (older tables) by the header.
  assert.equal(analysisOutputKind('/w/procrustes.csv', tables['procrustes.csv']), 'table');
  assert.equal(analysisOutputKind('/w/old.csv', tables['displacement.csv'].replace(/^#.*\r\n/gm, '')), 'table');
  assert.equal(analysisOutputKind('/w/notes.csv', '# format: "someone-else/x@1"\r\nid,text\r\n'), undefined);
});
