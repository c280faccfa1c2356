/**
 * The live preview in a frozen frame and anchoring (METHOD.md "Live preview (frozen frame) and anchoring"), against
 * numpy values written by test/fixtures/make_frame_fixtures.py (test/fixtures/frame.json) and against the engine's
 * own exact analysis.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { anchorResult, applyPlane, fitPlaneProcrustes, mapExtent } from '../src/engine/method/anchor';
import { analyzeWithFrame } from '../src/engine/method/analyze';
import type { MapFrame } from '../src/engine/method/frame';
import { classicalMdsFit } from '../src/engine/method/mds';
import { gowerPoint, smacofPoint } from '../src/engine/method/outOfSample';
import { distancesToFrame, previewInFrame } from '../src/engine/method/preview';
import { runAnalysisWithFrame, runPreview } from '../src/engine/method/runAnalysis';
import { packageRoot } from '../src/engine/io/paths';
import { UserError } from '../src/engine/errors';
import type { AnalysisCore, AnalysisResult, EmbeddingBundle, MapPoint } from '../src/engine/types';

const fixture = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'test', 'fixtures', 'frame.json'), 'utf8'));

const flat = (rows: number[][]): Float64Array => Float64Array.from(rows.flat());

function pipelineBundle(): EmbeddingBundle {
  const c = fixture.pipeline;
  return {
    models: c.models,
    tasks: c.tasks,
    n: c.n,
    dims: c.dims,
    embeddings: c.embeddings.map((mats: number[][][]) => mats.map(flat)),
    queries: Array.from({ length: c.n }, (_, i) => `query ${i + 1}`),
  };
}

/** The bundle with task `task` of every model replaced by the fixture's edited matrices, and a task New added. */
function editedBundle(bundle: EmbeddingBundle, task: string): EmbeddingBundle {
  const t = bundle.tasks.indexOf(task);
  const edits = fixture.pipeline.edits as { model: number; kind: string; matrix: number[][] }[];
  const matrix = (m: number, kind: string): Float64Array => flat(edits.find((e) => e.model === m && e.kind === kind)!.matrix);
  return {
    ...bundle,
    tasks: [...bundle.tasks, 'New'],
    embeddings: bundle.embeddings.map((mats, m) => [...mats.map((mat, x) => (x === t ? matrix(m, 'edited') : mat)), matrix(m, 'new')]),
  };
}

const pointOf = (result: AnalysisCore, model: string, task: string): MapPoint =>
  result.points.find((p) => p.model === model && p.task === task)!;

function extentOf(points: readonly MapPoint[]): number {
  return mapExtent(points.flatMap((p) => [p.x, p.y]), points.length);
}

function close(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected} (tolerance ${tolerance})`);
}

describe('out-of-sample classical MDS (Gower)', () => {
  const c = fixture.gower;
  const p = c.coords.length;
  const fit = classicalMdsFit(flat(c.distances), p);
  const extent = mapExtent(flat(c.coords), p);

  test('the map and its eigenvalues match numpy', () => {
    fit.coords.forEach((v, i) => close(v, c.coords.flat()[i], 1e-10 * extent, `coordinate ${i}`));
    fit.values.forEach((v, i) => close(v, c.values[i], 1e-10 * c.values[0], `eigenvalue ${i}`));
  });

  test('new points land where numpy’s Gower formula (every centring term kept) puts them', () => {
    c.newDistances.forEach((delta: number[], x: number) => {
      const [px, py] = gowerPoint(fit, p, Float64Array.from(delta));
      close(px, c.placed[x][0], 1e-10 * extent, `new point ${x}, x`);
      close(py, c.placed[x][1], 1e-10 * extent, `new point ${x}, y`);
    });
  });

  test('a point of the map placed out of sample lands on its own coordinates (the map is not 2-D exact)', () => {
    let worst = 0;
    for (let i = 0; i < p; i++) {
      const [x, y] = gowerPoint(fit, p, Float64Array.from(c.distances[i]));
      worst = Math.max(worst, Math.hypot(x - fit.coords[2 * i], y - fit.coords[2 * i + 1]) / extent);
    }
    assert.ok(worst <= 1e-12, `worst ${worst}`);
  });
});

describe('preview in the frame of a full analysis', () => {
  const bundle = pipelineBundle();
  const c = fixture.pipeline;
  let exact: { result: AnalysisResult; frame: MapFrame };
  let preview: AnalysisCore;

  test('the exact analysis matches numpy: reference, k and the map', async () => {
    exact = await analyzeWithFrame(bundle);
    assert.equal(exact.result.reference, c.models[c.reference]);
    assert.equal(exact.result.k, c.k);
    const extent = extentOf(exact.result.points);
    exact.result.points.forEach((point, a) => {
      close(point.x, c.coords[a][0], 1e-9 * extent, `point ${a} x`);
      close(point.y, c.coords[a][1], 1e-9 * extent, `point ${a} y`);
    });
  });

  test('analyzeWithFrame gives the same result as the plain analysis; runAnalysisWithFrame the same frame', async () => {
    const { analyze } = await import('../src/engine/method/analyze');
    assert.deepEqual(exact.result, await analyze(bundle));
    const threaded = await runAnalysisWithFrame(bundle);
    assert.deepEqual(threaded.result, exact.result);
    assert.equal(threaded.frame.frameId, exact.frame.frameId);
    assert.deepEqual(Array.from(threaded.frame.points), Array.from(exact.frame.points));
    threaded.frame.models.forEach((model, m) => {
      assert.deepEqual(Array.from(model.basis), Array.from(exact.frame.models[m].basis));
      assert.deepEqual(Array.from(model.mean), Array.from(exact.frame.models[m].mean));
    });
  });

  test('the unchanged bundle previewed in its own frame keeps every point exactly and projects nothing', async () => {
    const same = await previewInFrame(exact.frame, bundle);
    assert.deepEqual(same.points, exact.result.points);
    assert.deepEqual(same.mapFrame, { frameId: exact.frame.frameId, projected: [] });
    assert.deepEqual(same.displacement, exact.result.displacement);
  });

  test('an edited and a new task: the other points keep their coordinates, the edited ones move as numpy says', async () => {
    const edited = editedBundle(bundle, 'Retrieval');
    preview = await previewInFrame(exact.frame, edited);
    assert.equal(preview.mapMode, 'preview');
    assert.deepEqual(
      preview.mapFrame?.projected,
      c.models.flatMap((model: string) => [{ model, task: 'Retrieval' }, { model, task: 'New' }]),
    );
    const extent = extentOf(exact.result.points);
    let worstKept = 0;
    for (const model of c.models)
      for (const task of ['Base', 'STS']) {
        const before = pointOf(exact.result, model, task);
        const after = pointOf(preview, model, task);
        worstKept = Math.max(worstKept, Math.hypot(after.x - before.x, after.y - before.y));
      }
    assert.equal(worstKept, 0, 'points of tasks not edited are the frame’s own');
    for (const edit of c.edits as { model: number; kind: string; distances: number[]; placed: number[] }[]) {
      const point = pointOf(preview, c.models[edit.model], edit.kind === 'edited' ? 'Retrieval' : 'New');
      close(point.x, edit.placed[0], 1e-9 * extent, `${edit.kind} of model ${edit.model}, x`);
      close(point.y, edit.placed[1], 1e-9 * extent, `${edit.kind} of model ${edit.model}, y`);
      if (edit.kind === 'edited') {
        const old = pointOf(exact.result, c.models[edit.model], 'Retrieval');
        assert.ok(Math.hypot(point.x - old.x, point.y - old.y) > 0.01 * extent, 'the edited point moved');
      }
    }
  });

  test('a projected point’s cosine distances to the frame match numpy', async () => {
    const { projectTask } = await import('../src/engine/method/preview');
    const frame = exact.frame;
    const len = frame.n * frame.k;
    const norms = Float64Array.from({ length: frame.models.length * frame.tasks.length }, (_, r) =>
      Math.hypot(...frame.points.subarray(r * len, (r + 1) * len)),
    );
    for (const edit of c.edits as { model: number; matrix: number[][]; distances: number[] }[]) {
      const point = new Float64Array(len);
      await projectTask(frame, edit.model, flat(edit.matrix), point);
      const delta = await distancesToFrame(frame, point, norms);
      delta.forEach((v, j) => close(v, edit.distances[j], 1e-11, `distance ${j}`));
    }
  });

  test('displacement numbers of the preview are the exact analysis’s (own space)', async () => {
    const full = await analyzeWithFrame(editedBundle(bundle, 'Retrieval'));
    const strip = (r: AnalysisCore) => r.displacement.map(({ trajectoryLength: _t, ...row }) => row);
    assert.deepEqual(strip(preview), strip(full.result));
    assert.deepEqual(preview.topMovers, full.result.topMovers);
  });

  test('an unchanged task under a new name is projected and lands on its own coordinates', async () => {
    const copy: EmbeddingBundle = { ...bundle, tasks: [...bundle.tasks, 'Copy'], embeddings: bundle.embeddings.map((mats) => [...mats, mats[1]]) };
    const result = await previewInFrame(exact.frame, copy);
    const extent = extentOf(exact.result.points);
    for (const model of c.models) {
      const own = pointOf(exact.result, model, 'STS');
      const projected = pointOf(result, model, 'Copy');
      const moved = Math.hypot(projected.x - own.x, projected.y - own.y) / extent;
      assert.ok(moved <= 1e-9, `${model}: ${moved}`);
    }
  });

  test('runPreview (worker thread) gives the same result as previewInFrame, with the (here empty) evaluation', async () => {
    const { evaluation, displacementVsPerformance, leaderboard, ...core } = await runPreview(exact.frame, editedBundle(bundle, 'Retrieval'), 'frame');
    assert.deepEqual([evaluation, displacementVsPerformance, leaderboard], [[], [], []]);
    assert.deepEqual(core, preview);
  });

  test('a bundle that does not fit the frame is a UserError naming the frame', async () => {
    const cases: [string, EmbeddingBundle, RegExp][] = [
      ['other models', { ...bundle, models: ['alpha', 'gamma'] }, /frame\.json: the frame is for models 'alpha', 'beta'/],
      ['other dims', { ...bundle, dims: [6, 41], embeddings: bundle.embeddings }, /model 'beta' has 40 dimensions in the frame, 41/],
      ['other N', { ...bundle, n: 7 }, /frame is for 8 queries, the embeddings have 7/],
      ['other queries', { ...bundle, queries: bundle.queries!.map((q) => `${q}!`) }, /queries differ/],
    ];
    for (const [what, other, message] of cases) {
      await assert.rejects(previewInFrame(exact.frame, other, 'frame.json'), (error: unknown) => {
        assert.ok(error instanceof UserError, what);
        assert.match((error as Error).message, message, what);
        return true;
      });
    }
  });
});

describe('out-of-sample SMACOF update', () => {
  test('the other points stay fixed and the new point is a stationary point of its stress', async () => {
    const bundle = pipelineBundle();
    const exact = await analyzeWithFrame(bundle, { mds: 'smacof', seed: 3 });
    const preview = await previewInFrame(exact.frame, editedBundle(bundle, 'STS'));
    for (const point of exact.result.points.filter((p) => p.task !== 'STS')) {
      const after = pointOf(preview, point.model, point.task);
      assert.deepEqual([after.x, after.y], [point.x, point.y]);
    }
    const frame = exact.frame;
    const p = frame.models.length * frame.tasks.length;
    const len = frame.n * frame.k;
    const norms = Float64Array.from({ length: p }, (_, r) => Math.hypot(...frame.points.subarray(r * len, (r + 1) * len)));
    const { projectTask } = await import('../src/engine/method/preview');
    const extent = mapExtent(frame.coords, p);
    for (let m = 0; m < frame.models.length; m++) {
      const vector = new Float64Array(len);
      await projectTask(frame, m, editedBundle(bundle, 'STS').embeddings[m][1], vector);
      const delta = await distancesToFrame(frame, vector, norms);
      const [x, y] = smacofPoint(frame.coords, p, delta);
      const shown = pointOf(preview, frame.models[m].name, 'STS');
      close(shown.x, x, 1e-12 * extent, 'x');
      close(shown.y, y, 1e-12 * extent, 'y');
      // Gradient of sum_i (|y - x_i| - delta_i)^2, relative to the map's extent.
      let gx = 0;
      let gy = 0;
      for (let i = 0; i < p; i++) {
        const dx = x - frame.coords[2 * i];
        const dy = y - frame.coords[2 * i + 1];
        const d = Math.hypot(dx, dy);
        gx += 2 * (d - delta[i]) * (dx / d);
        gy += 2 * (d - delta[i]) * (dy / d);
      }
      assert.ok(Math.hypot(gx, gy) / p <= 1e-9 * extent, `gradient ${Math.hypot(gx, gy)}`);
    }
  });

  test('a point of a SMACOF map placed again lands near its own coordinates', async () => {
    const bundle = pipelineBundle();
    const exact = await analyzeWithFrame(bundle, { mds: 'smacof', seed: 3 });
    const copy: EmbeddingBundle = { ...bundle, tasks: [...bundle.tasks, 'Copy'], embeddings: bundle.embeddings.map((mats) => [...mats, mats[2]]) };
    const result = await previewInFrame(exact.frame, copy);
    const extent = extentOf(exact.result.points);
    for (const model of bundle.models) {
      const own = pointOf(exact.result, model, 'Retrieval');
      const again = pointOf(result, model, 'Copy');
      // SMACOF stops at a relative stress decrease of 1e-6, so the map is stationary only approximately.
      assert.ok(Math.hypot(again.x - own.x, again.y - own.y) <= 1e-3 * extent, `${model}: ${Math.hypot(again.x - own.x, again.y - own.y) / extent}`);
    }
  });
});

describe('anchoring (2-D orthogonal Procrustes, reflection allowed, translation, no scaling)', () => {
  const c = fixture.anchor;
  const map = flat(c.map);
  const count = c.map.length;

  test('brings a rotated, reflected and translated copy back exactly', () => {
    const fit = fitPlaneProcrustes(map, flat(c.moved), count);
    c.rotation.flat().forEach((v: number, i: number) => close(fit.rotation[i], v, 1e-12, `rotation ${i}`));
    close(fit.translation[0], c.translation[0], 1e-12, 'translation x');
    close(fit.translation[1], c.translation[1], 1e-12, 'translation y');
    for (let i = 0; i < count; i++) {
      const [x, y] = applyPlane(fit, map[2 * i], map[2 * i + 1]);
      close(x, c.moved[i][0], 1e-12, `point ${i} x`);
      close(y, c.moved[i][1], 1e-12, `point ${i} y`);
    }
  });

  test('a noisy copy: the least-squares motion of numpy’s SVD solution', () => {
    const fit = fitPlaneProcrustes(map, flat(c.noisy), count);
    c.noisyRotation.flat().forEach((v: number, i: number) => close(fit.rotation[i], v, 1e-12, `rotation ${i}`));
    close(fit.translation[0], c.noisyTranslation[0], 1e-12, 'translation x');
    close(fit.translation[1], c.noisyTranslation[1], 1e-12, 'translation y');
  });

  const asResult = (rows: number[][]): AnalysisResult =>
    ({ points: rows.map(([x, y], i) => ({ model: i % 2 ? '__proto__' : 'constructor', task: `t${i}`, x, y })) }) as unknown as AnalysisResult;

  test('anchorResult: to itself is the identity; to a moved copy it lands on the copy; names are data', () => {
    const self = anchorResult(asResult(c.map), asResult(c.map).points);
    assert.deepEqual(self.result.mapAnchor?.matchedPoints, count);
    self.result.points.forEach((p, i) => {
      close(p.x, c.map[i][0], 1e-12, `x ${i}`);
      close(p.y, c.map[i][1], 1e-12, `y ${i}`);
    });
    assert.ok(self.result.mapAnchor!.rmsResidual <= 1e-12);
    assert.equal(self.result.mapAnchor!.reflected, false);
    const moved = anchorResult(asResult(c.map), asResult(c.moved).points);
    assert.equal(moved.result.mapMode, 'anchored');
    assert.equal(moved.result.mapAnchor!.reflected, true);
    moved.result.points.forEach((p, i) => {
      close(p.x, c.moved[i][0], 1e-12, `x ${i}`);
      close(p.y, c.moved[i][1], 1e-12, `y ${i}`);
    });
    const noisy = anchorResult(asResult(c.map), asResult(c.noisy).points);
    close(noisy.result.mapAnchor!.rmsResidual, c.noisyRmsResidual, 1e-12, 'rms residual');
  });

  test('only points present in both maps are matched; none matched leaves the map as it is', () => {
    const partial = anchorResult(asResult(c.map), asResult(c.moved).points.slice(0, 5));
    assert.equal(partial.result.mapAnchor!.matchedPoints, 5);
    const none = anchorResult(asResult(c.map), [{ model: 'x', task: 'y', x: 0, y: 0 }]);
    assert.equal(none.result.mapAnchor!.matchedPoints, 0);
    assert.deepEqual(none.result.points, asResult(c.map).points);
  });
});

describe('what moved: previous positions and arrows on the map (webview/charts.ts), the map mode in messages', () => {
  test('movedPoints: matched by model and task (names are data), more than 2% of the extent', async () => {
    const { movedPoints } = await import('../webview/charts');
    const before: MapPoint[] = [
      { model: '__proto__', task: 'Base', x: 0, y: 0 },
      { model: '__proto__', task: 'constructor', x: 10, y: 0 },
      { model: 'b', task: 'Base', x: 0, y: 10 },
      { model: 'gone', task: 'Base', x: 5, y: 5 },
    ];
    const after: MapPoint[] = [
      { model: '__proto__', task: 'Base', x: 0.1, y: 0 }, // 1% of the extent 10: not drawn
      { model: '__proto__', task: 'constructor', x: 10, y: 0.5 }, // 5%: drawn
      { model: 'b', task: 'Base', x: 0, y: 10 },
      { model: 'new', task: 'Base', x: 3, y: 3 },
    ];
    assert.deepEqual(movedPoints(before, after), [{ model: '__proto__', task: 'constructor', from: { x: 10, y: 0 }, to: { x: 10, y: 0.5 } }]);
  });

  test('mapFigure draws moved points as faint circles and arrows (layout), no extra trace', async () => {
    const { LIGHT_THEME, mapFigure, movedPoints } = await import('../webview/charts');
    const bundle = pipelineBundle();
    const exact = await analyzeWithFrame(bundle);
    const preview = await previewInFrame(exact.frame, editedBundle(bundle, 'Retrieval'));
    const moved = movedPoints(exact.result.points, preview.points);
    assert.deepEqual(moved.map((p) => [p.model, p.task]), [['alpha', 'Retrieval'], ['beta', 'Retrieval']]);
    const plain = mapFigure(preview, LIGHT_THEME);
    const decorated = mapFigure(preview, LIGHT_THEME, undefined, moved);
    assert.equal(decorated.data.length, plain.data.length);
    const shapes = decorated.layout.shapes as { xanchor: number; yanchor: number }[];
    const arrows = decorated.layout.annotations as { x: number; y: number; ax: number; ay: number; showarrow: boolean }[];
    assert.deepEqual(shapes.map((s) => [s.xanchor, s.yanchor]), moved.map((p) => [p.from.x, p.from.y]));
    assert.deepEqual(arrows.map((a) => [a.ax, a.ay, a.x, a.y, a.showarrow]), moved.map((p) => [p.from.x, p.from.y, p.to.x, p.to.y, true]));
    assert.equal(plain.layout.shapes, undefined);
  });

  test('the protocol checks mapMode and frameTime', async () => {
    const { analysisResultProblem, parseHostMessage } = await import('../src/protocol');
    const bundle = pipelineBundle();
    const exact = await analyzeWithFrame(bundle);
    const preview = await previewInFrame(exact.frame, editedBundle(bundle, 'Retrieval'));
    assert.equal(analysisResultProblem(preview), undefined);
    assert.match(analysisResultProblem({ ...preview, mapMode: 'guess' }) ?? '', /mapMode must be one of exact, anchored, preview/);
    const context = { runId: 1, title: 't', frameTime: '10:42:03' };
    assert.deepEqual(parseHostMessage({ type: 'show', result: preview, context }), { type: 'show', result: preview, context });
    assert.equal(parseHostMessage({ type: 'show', result: preview, context: { ...context, frameTime: 5 } }), undefined);
  });
});
