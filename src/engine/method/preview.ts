/**
 * The live preview (METHOD.md "Live preview (frozen frame) and anchoring"): a bundle's tasks shown in the frame of an
 * earlier full analysis (frame.ts) instead of a refit.
 *
 * Per (model, task) of the bundle: when the frame holds the same task with the same embeddings (digest equal), the
 * point is the frame's own (vector and map coordinates exactly as stored). Otherwise (the instruction changed, or the
 * task is new) its matrix E is projected: S = (E - mu_m) W_m, A = S Q_{m,ref}, the point is A flattened (or its
 * column mean, 'centroid'), its cosine distances to the frame's P points are computed, and it is placed on the map by
 * out-of-sample MDS against those P points (outOfSample.ts: Gower for classical maps, moved by the frame's placement;
 * a SMACOF update for SMACOF maps). The frame's points never move. Displacement numbers (own space) are computed from
 * the bundle exactly as in the full analysis; D, k, the reference and the explained variance are the frame's;
 * cosineDistance and mdsStress are those of the shown points; robustness is empty (no map per other reference).
 */
import { UserError } from '../errors';
import { gemm } from '../kernels/gemm';
import { acquire, release } from '../kernels/scratch';
import { applyPlane } from './anchor';
import { assembleResult, type ModelStage, type PreparedAnalysis, type ResolvedOptions, uncertaintyInput } from './analyze';
import { displacementUncertainty } from './displacementIntervals';
import { type MapFrame, pointLength } from './frame';
import { matrixDigest, queriesDigest } from './frameDigest';
import { cosineOfPoints, pointShape } from './mapPoints';
import { kruskalStress } from './mds';
import { modelDisplacement } from './metrics';
import { gowerPoint, smacofPoint } from './outOfSample';
import { screenBundle } from './screen';
import type { AnalysisCore, EmbeddingBundle, EmbeddingMatrix } from '../types';

/**
 * UserError (naming `source`, the frame's file or a description of it) unless the bundle can be shown in the frame:
 * the same models in the same order with the same dimensions, the same number of queries, the same queries when both
 * know them, Base first.
 */
export function checkFrameFits(frame: MapFrame, bundle: EmbeddingBundle, source: string): void {
  const frameModels = frame.models.map((m) => m.name);
  if (frameModels.length !== bundle.models.length || frameModels.some((name, m) => name !== bundle.models[m]))
    throw new UserError(`the frame is for models ${list(frameModels)}, the embeddings are of ${list(bundle.models)}`, source);
  frame.models.forEach((model, m) => {
    if (model.dim !== bundle.dims[m])
      throw new UserError(`model '${model.name}' has ${model.dim} dimensions in the frame, ${bundle.dims[m]} in the embeddings`, source);
  });
  if (frame.n !== bundle.n) throw new UserError(`the frame is for ${frame.n} queries, the embeddings have ${bundle.n}`, source);
  if (frame.queriesDigest !== undefined && bundle.queries && queriesDigest(bundle.queries) !== frame.queriesDigest)
    throw new UserError('the queries differ from the ones the frame was made with', source);
  if (bundle.tasks[0] !== frame.tasks[0]) throw new UserError(`the first task must be '${frame.tasks[0]}'`, source);
  if (new Set(bundle.tasks).size !== bundle.tasks.length) throw new UserError('task names repeat', source);
}

function list(names: readonly string[]): string {
  return names.map((name) => `'${name}'`).join(', ');
}

/**
 * The preview's result without the task evaluation (evaluationStage.ts adds it: its scores do not depend on the frame).
 * Degenerate models are screened as in the full analysis; one left out makes the bundle no longer fit the frame.
 */
/** A preview's model stages are not timed (StageSeconds are the full analysis's). */
const NO_SECONDS = { pca: 0, displacement: 0, neighbours: 0 };

export async function previewInFrame(frame: MapFrame, input: EmbeddingBundle, source = 'frame', neighbours = true): Promise<AnalysisCore> {
  const screened = screenBundle(input);
  const bundle = screened.bundle;
  checkFrameFits(frame, bundle, source);
  const { n, k } = frame;
  const len = pointLength(frame);
  const frameTaskIndex = new Map(frame.tasks.map((task, t) => [task, t]));
  const mCount = bundle.models.length;
  const tCount = bundle.tasks.length;
  const p = mCount * tCount;
  const framePoints = frame.tasks.length * mCount;
  const frameNorms = rowNorms(frame.points, framePoints, len);
  const pts = acquire(p * len);
  const coords = new Float64Array(p * 2);
  const projected: { model: string; task: string }[] = [];
  const stages: ModelStage[] = [];
  try {
    for (let m = 0; m < mCount; m++) {
      const mats = bundle.embeddings[m];
      const displacement = await modelDisplacement(mats, n, bundle.dims[m], bundle.models[m], bundle.tasks, neighbours);
      stages.push({ scores: new Float64Array(0), explainedVarianceRatio: frame.explainedVarianceRatio[m], displacement, seconds: NO_SECONDS });
      for (let t = 0; t < tCount; t++) {
        const a = m * tCount + t;
        const target = pts.subarray(a * len, (a + 1) * len);
        const ft = frameTaskIndex.get(bundle.tasks[t]);
        if (ft !== undefined && frame.models[m].taskDigests[ft] === matrixDigest(mats[t])) {
          const f = m * frame.tasks.length + ft;
          target.set(frame.points.subarray(f * len, (f + 1) * len));
          coords[2 * a] = frame.coords[2 * f];
          coords[2 * a + 1] = frame.coords[2 * f + 1];
          continue;
        }
        await projectTask(frame, m, mats[t], target);
        const [x, y] = await placePoint(frame, target, frameNorms, bundle.models[m], bundle.tasks[t]);
        coords[2 * a] = x;
        coords[2 * a + 1] = y;
        projected.push({ model: bundle.models[m], task: bundle.tasks[t] });
      }
    }
    const cosine = await cosineOfPoints(pts, pointShape(frame.pointsMode, mCount, tCount, n, k), tCount);
    const opts: ResolvedOptions = {
      k,
      points: frame.pointsMode,
      mds: frame.mdsMethod,
      seed: frame.seed,
      neighbourOverlap: neighbours,
      ...(frame.referenceChosenBy === 'user' ? { reference: frame.models[frame.reference].name } : {}),
    };
    const prepared: PreparedAnalysis = { bundle, opts, screened };
    const uncertainty = displacementUncertainty(uncertaintyInput(prepared, stages));
    const result = assembleResult(prepared, stages, frame.procrustesDistance, frame.reference, [
      { coords, cosine, stress: kruskalStress(coords, cosine, p) },
    ], uncertainty);
    return { ...result, mapMode: 'preview', mapFrame: { frameId: frame.frameId, projected } };
  } finally {
    release(pts);
  }
}

/** The aligned point of model m's task matrix `mat` (N x d) in the frame, written into `out` (length len). */
export async function projectTask(frame: MapFrame, m: number, mat: EmbeddingMatrix, out: Float64Array): Promise<void> {
  const { n, k } = frame;
  const model = frame.models[m];
  const d = model.dim;
  const centred = acquire(n * d);
  const scores = acquire(n * k);
  const aligned = frame.pointsMode === 'flatten' ? out : acquire(n * k);
  try {
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) centred[i * d + j] = mat[i * d + j] - model.mean[j];
    await gemm(centred, model.basis, n, d, k, { out: scores });
    if (model.rotation) await gemm(scores, model.rotation, n, k, k, { out: aligned });
    else aligned.set(scores);
    if (frame.pointsMode === 'centroid') {
      out.fill(0);
      for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) out[c] += aligned[i * k + c];
      for (let c = 0; c < k; c++) out[c] /= n;
    }
  } finally {
    release(centred, scores);
    if (aligned !== out) release(aligned);
  }
}

/** Cosine distances from `point` to the frame's P points. */
export async function distancesToFrame(frame: MapFrame, point: Float64Array, frameNorms: Float64Array): Promise<Float64Array> {
  const p = frameNorms.length;
  const dots = await gemm(frame.points, point, p, point.length, 1);
  let normSq = 0;
  for (let x = 0; x < point.length; x++) normSq += point[x] * point[x];
  const norm = Math.sqrt(normSq);
  const delta = new Float64Array(p);
  for (let j = 0; j < p; j++) delta[j] = 1 - dots[j] / (norm * frameNorms[j]);
  return delta;
}

/** Map coordinates of a projected point: out-of-sample MDS against the frame's points, shown as the frame is. */
async function placePoint(frame: MapFrame, point: Float64Array, frameNorms: Float64Array, model: string, task: string): Promise<[number, number]> {
  if (!(point.some((v) => v !== 0))) throw new UserError(`the projected point of model '${model}', task '${task}' is zero`, 'bundle');
  const delta = await distancesToFrame(frame, point, frameNorms);
  const p = frameNorms.length;
  if (frame.classical) {
    const [x, y] = gowerPoint(frame.classical, p, delta);
    return applyPlane(frame.placement, x, y);
  }
  return smacofPoint(frame.coords, p, delta);
}

function rowNorms(a: Float64Array, rows: number, len: number): Float64Array {
  const norms = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let x = r * len; x < (r + 1) * len; x++) s += a[x] * a[x];
    norms[r] = Math.sqrt(s);
  }
  return norms;
}
