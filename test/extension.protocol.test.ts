/**
 * The host <-> webview protocol validators and the extension's pure helpers (model ids, Restricted Mode rules,
 * latest-run cancellation, data: URL decoding for image export).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AnalysisResult } from '../src/engine/types';
import { decodeDataUrl } from '../src/extension/dataUrl';
import { LatestOnly } from '../src/extension/latestOnly';
import {
  missingModelFiles,
  modelKind,
  orderModelChoices,
  parseModelEntries,
  resolveModelId,
  restrictedModeRefusal,
  updateRecent,
} from '../src/extension/modelSpecs';
import { analysisResultProblem, parseHostMessage, parseWebviewMessage, parseWebviewState } from '../src/protocol';

function result(): AnalysisResult {
  const models = ['a', 'b'];
  const tasks = ['Base', 'STS'];
  return {
    models,
    tasks,
    n: 3,
    dims: [4, 5],
    k: 2,
    reference: 'a',
    referenceChosenBy: 'auto',
    pointsMode: 'flatten',
    mdsMethod: 'classical',
    mdsStress: 0.01,
    procrustesDistance: [
      [0, 0.2],
      [0.3, 0],
    ],
    cosineDistance: [],
    points: models.flatMap((model, m) => tasks.map((task, t) => ({ model, task, x: m, y: t }))),
    displacement: models.map((model) => ({
      model,
      task: 'STS',
      meanCosineDistance: 0.1,
      meanCosineDistanceCiLow: 0.08,
      meanCosineDistanceCiHigh: 0.12,
      medianCosineDistance: 0.1,
      p90CosineDistance: 0.2,
      trajectoryLength: 1,
      shiftFraction: 0.5,
      neighbourOverlap: 0.7,
    })),
    explainedVarianceRatio: { a: [0.6, 0.3], b: [0.5, 0.4] },
    robustness: [{ reference: 'b', disparity: 0.01, taskOrderPreserved: { a: true, b: true } }],
    topMovers: [{ model: 'a', task: 'STS', index: 2, cosineDistance: 0.3, relativeMovement: 1.2, neighbourOverlap: 0.4 }],
    warnings: [],
    warningDetails: [],
    failedModels: [],
    taskOrderStability: models.map((model) => ({ model, order: ['STS'], share: 1, adjacentShares: [] })),
    queries: ['x', 'y', 'z'],
    evaluation: [],
    displacementVsPerformance: [],
    leaderboard: [],
  };
}

test('a well-formed show message passes; broken results are rejected with the reason', () => {
  const context = { runId: 1, title: 'q × paper-en', queryFile: '/w/q.txt' };
  assert.deepEqual(parseHostMessage({ type: 'show', result: result(), context }), { type: 'show', result: result(), context });
  const noPoint = { ...result(), points: result().points.slice(1) };
  assert.equal(parseHostMessage({ type: 'show', result: noPoint, context }), undefined);
  assert.match(analysisResultProblem(noPoint) ?? '', /points must have 4 entries/);
  assert.match(analysisResultProblem({ ...result(), procrustesDistance: [[0, 1]] }) ?? '', /procrustesDistance must be 2 x 2/);
  assert.match(analysisResultProblem({ ...result(), reference: 'c' }) ?? '', /reference/);
  const nanPoint = { ...result(), points: result().points.map((p, i) => (i === 0 ? { ...p, x: Number.NaN } : p)) };
  assert.match(analysisResultProblem(nanPoint) ?? '', /finite/);
  assert.equal(parseHostMessage({ type: 'show', result: result(), context: { title: 'no run id' } }), undefined);
});

test('host messages: status and image requests are checked field by field', () => {
  assert.deepEqual(parseHostMessage({ type: 'status', state: 'computing' }), { type: 'status', state: 'computing', message: undefined });
  assert.equal(parseHostMessage({ type: 'status', state: 'busy' }), undefined);
  assert.deepEqual(parseHostMessage({ type: 'renderImage', requestId: 3, figure: 'map', format: 'svg', background: 'theme' }), {
    type: 'renderImage',
    requestId: 3,
    figure: 'map',
    format: 'svg',
    background: 'theme',
  });
  assert.equal(parseHostMessage({ type: 'renderImage', requestId: 3, figure: 'map', format: 'png', background: 'transparent' })?.type, 'renderImage');
  assert.equal(parseHostMessage({ type: 'renderImage', requestId: 3, figure: 'map', format: 'png' }), undefined);
  assert.equal(parseHostMessage({ type: 'renderImage', requestId: 3, figure: 'map', format: 'png', background: 'none' }), undefined);
  assert.equal(parseHostMessage({ type: 'renderImage', requestId: 3, figure: 'map', format: 'jpeg', background: 'theme' }), undefined);
  assert.equal(parseHostMessage({ type: 'renderImage', requestId: -1, figure: 'map', format: 'png', background: 'theme' }), undefined);
  assert.equal(parseHostMessage('show'), undefined);
  assert.equal(parseHostMessage({ type: 'evil' }), undefined);
});

test('webview messages: only known types with valid fields reach the host', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(parseWebviewMessage({ type: 'revealQuery', index: 4 }), { type: 'revealQuery', index: 4 });
  assert.equal(parseWebviewMessage({ type: 'revealQuery', index: 1.5 }), undefined);
  assert.deepEqual(parseWebviewMessage({ type: 'export', kind: 'report.html' }), { type: 'export', kind: 'report.html' });
  assert.equal(parseWebviewMessage({ type: 'export', kind: '../../etc/passwd' }), undefined);
  assert.deepEqual(parseWebviewMessage({ type: 'image', requestId: 1, dataUrl: 'data:image/png;base64,AA==' }), {
    type: 'image',
    requestId: 1,
    dataUrl: 'data:image/png;base64,AA==',
  });
  assert.equal(parseWebviewMessage({ type: 'image', requestId: 1, dataUrl: 'https://example.com/x.png' }), undefined);
  assert.deepEqual(parseWebviewMessage({ type: 'cspViolation', directive: 'script-src', blocked: 'inline' }), {
    type: 'cspViolation',
    directive: 'script-src',
    blocked: 'inline',
  });
  assert.equal(parseWebviewMessage({ type: 'error' }), undefined);
  assert.equal(parseWebviewMessage(null), undefined);
});

test('issue 12: notes with a setting, openSetting for our settings only, optional new result keys checked', () => {
  const context = { runId: 2, title: 't', notes: [{ text: 'k = 20 exceeds…', setting: 'instructionLens.k' }, { text: 'plain' }] };
  assert.deepEqual(parseHostMessage({ type: 'show', result: result(), context }), { type: 'show', result: result(), context });
  const foreign = { ...context, notes: [{ text: 'x', setting: 'workbench.colorTheme' }] };
  assert.equal(parseHostMessage({ type: 'show', result: result(), context: foreign }), undefined);
  assert.deepEqual(parseWebviewMessage({ type: 'openSetting', setting: 'instructionLens.k' }), { type: 'openSetting', setting: 'instructionLens.k' });
  for (const setting of ['security.workspace.trust.enabled', 'instructionLens.', '', 7]) {
    assert.equal(parseWebviewMessage({ type: 'openSetting', setting }), undefined, String(setting));
  }
  // Results written before issue 12 (no intervals, details, failures or stability) still open.
  const { warningDetails, failedModels, taskOrderStability, ...old } = result();
  assert.equal(analysisResultProblem(old), undefined);
  assert.match(analysisResultProblem({ ...result(), failedModels: [{ model: 'a' }] }) ?? '', /failedModels/);
  assert.match(analysisResultProblem({ ...result(), taskOrderStability: [{ model: 'a', order: 'STS', share: 1 }] }) ?? '', /taskOrderStability/);
  assert.match(analysisResultProblem({ ...result(), warningDetails: ['text'] }) ?? '', /warningDetails/);
});

test('webview state round-trips and a corrupted state is ignored', () => {
  const state = { result: result(), context: { runId: 2, title: 't' } };
  assert.deepEqual(parseWebviewState(JSON.parse(JSON.stringify(state))), state);
  assert.equal(parseWebviewState({ result: { models: [] }, context: state.context }), undefined);
  assert.equal(parseWebviewState(undefined), undefined);
});

test('model ids: kinds, Restricted Mode refusals, settings parsing with relative folders', () => {
  assert.equal(modelKind('use-lite'), 'use-lite');
  assert.equal(modelKind('Xenova/bge-small-en-v1.5'), 'hub');
  assert.equal(modelKind('/models/glove'), 'folder');
  assert.equal(modelKind('./models/glove'), 'folder');
  assert.equal(modelKind('~/models/glove'), 'folder');
  assert.equal(modelKind('openai:bge-m3@http://10.0.0.2:8000'), 'endpoint');
  assert.equal(modelKind('bundle:/data/run1/embeddings#e5'), 'bundle');
  assert.equal(restrictedModeRefusal('bundle:./embeddings'), undefined);
  assert.equal(resolveModelId('bundle:embeddings#e5', '/ws', '/home/u'), 'bundle:/ws/embeddings#e5');
  assert.equal(restrictedModeRefusal('Xenova/bge-small-en-v1.5'), 'download');
  assert.equal(restrictedModeRefusal('openai:bge-m3@http://127.0.0.1:8000'), 'endpoint');
  assert.equal(restrictedModeRefusal('use-lite'), undefined);
  assert.equal(restrictedModeRefusal('/models/glove'), undefined);

  const { entries, problems } = parseModelEntries(
    ['use-lite', './models/glove', { id: '~/m', dtype: 'q8' }, { name: 'no id' }, 42],
    '/work/ws',
    '/home/u',
  );
  assert.deepEqual(entries, [{ id: 'use-lite' }, { id: '/work/ws/models/glove' }, { id: '/home/u/m', dtype: 'q8' }]);
  assert.deepEqual(problems, [
    'instructionLens.models[3]: expected a model id string or an object with an "id"',
    'instructionLens.models[4]: expected a model id string or an object with an "id"',
  ]);
  assert.deepEqual(parseModelEntries({ id: 'x' }, undefined, '/h').problems, ['instructionLens.models must be an array']);
});

test('model choices: recent first, then configured, use-lite always; recent list bounded', () => {
  assert.deepEqual(orderModelChoices(['/m/a', 'org/b'], ['org/b', 'org/c']), ['org/b', 'org/c', '/m/a', 'use-lite']);
  assert.deepEqual(orderModelChoices([], []), ['use-lite']);
  assert.deepEqual(updateRecent(['a', 'b', 'c'], ['c', 'd'], 3), ['c', 'd', 'a']);
});

test('LatestOnly: a new run aborts the previous one; cancel aborts the current one', () => {
  const runs = new LatestOnly();
  const first = runs.start();
  assert.equal(first.isCurrent(), true);
  const second = runs.start();
  assert.equal(first.signal.aborted, true);
  assert.equal(first.isCurrent(), false);
  assert.equal(second.isCurrent(), true);
  runs.finish(second.signal);
  assert.equal(second.isCurrent(), true, 'a finished run stays current until the next one starts');
  const third = runs.start();
  assert.equal(second.signal.aborted, false, 'starting after a finished run aborts nothing');
  runs.cancel();
  assert.equal(third.signal.aborted, true);
  assert.equal(third.isCurrent(), false);
});

test('image export: data: URLs decode to the exact bytes (base64 PNG, URL-encoded SVG)', () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]);
  assert.deepEqual(decodeDataUrl(`data:image/png;base64,${png.toString('base64')}`), png);
  const svg = '<svg xmlns="http://www.w3.org/2000/svg"><text>D = 0.12 & 100%</text></svg>';
  assert.equal(decodeDataUrl(`data:image/svg+xml,${encodeURIComponent(svg)}`).toString('utf8'), svg);
  assert.throws(() => decodeDataUrl('https://example.com/a.png'), /not a data: URL/);
});

test('a local model folder needs config.json, tokenizer.json and ONNX weights; a bundle needs MODEL/TASK.npy', () => {
  assert.deepEqual(missingModelFiles(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']), []);
  assert.deepEqual(missingModelFiles(['config.json', 'onnx/model_quantized.onnx']), ['tokenizer.json']);
  assert.deepEqual(missingModelFiles(['README.md', 'src/a.ts']), ['config.json', 'tokenizer.json', 'onnx/model.onnx']);
  assert.deepEqual(missingModelFiles(['queries.txt', 'bge/Base.npy', 'bge/STS.npy']), []);
  assert.deepEqual(missingModelFiles(['onnx\\model.onnx', 'config.json', 'tokenizer.json']), [], 'Windows separators');
});

test('view messages: map drawn, labels toggled, options, query labels in the context', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'drawn', runId: 4 }), { type: 'drawn', runId: 4 });
  assert.equal(parseWebviewMessage({ type: 'drawn', runId: -1 }), undefined);
  assert.deepEqual(parseWebviewMessage({ type: 'labels', on: true }), { type: 'labels', on: true });
  assert.equal(parseWebviewMessage({ type: 'labels', on: 'yes' }), undefined);
  assert.deepEqual(parseHostMessage({ type: 'options', labels: false }), { type: 'options', labels: false });
  assert.equal(parseHostMessage({ type: 'options' }), undefined);
  const context = { runId: 1, title: 't', queryLabels: ['line 1', 'q2', 'line 3'] };
  assert.deepEqual(parseHostMessage({ type: 'show', result: result(), context }), { type: 'show', result: result(), context });
  assert.equal(parseHostMessage({ type: 'show', result: result(), context: { ...context, queryLabels: [1, 2, 3] } }), undefined);
});
