/**
 * The classification kind of EVAL.md: accuracy (main) and macro-F1 of a multinomial logistic regression
 * (logisticRegression.ts) in 5-fold stratified cross-validation with deterministic folds, and leave-one-out kNN
 * accuracy (knn.ts). The bootstrap re-scores the fixed cross-validated predictions.
 *
 * Choices EVAL.md leaves open (docs/EVALUATION.md "Classification"):
 * - When d > n, the model is fitted on the rows' coordinates in an orthonormal basis of the span of all n rows, from
 *   the eigendecomposition of their Gram matrix G = U diag(l) U^T (coordinates G U diag(l)^-1/2). At the optimum,
 *   W = -C (P - Y)^T X_train lies in the span of the fold's training rows, which this span contains, and every
 *   gradient lies there too: the objective, its optimum, the predictions and the gradient norm are those of the
 *   d-dimensional problem, in r <= n dimensions, with one factorisation for all five folds. Directions with
 *   l <= 1e-12 l_max (duplicate rows, rounding) are dropped: the regularisation keeps W's component there of the
 *   order of l, so no logit moves by more than about 1e-10.
 * - Macro-F1 is scikit-learn's f1_score(average='macro', zero_division=0): the mean over the labels present in the
 *   true or predicted labels of 2PR / (P + R), a precision or recall of 0/0 being 0, an F of 0/0 being 0.
 */
import { UserError } from '../errors';
import { gemm, gramOf } from '../kernels/gemm';
import { symmetricEigenTop } from '../kernels/linalg';
import { knnPredictions } from './knn';
import { argmaxRows, fitLogistic, predictProbabilities } from './logisticRegression';
import type { KindScore } from './scorer';

export const FOLDS = 5;
/** Eigen-directions of the Gram matrix below this share of the largest eigenvalue are dropped. */
const SPAN_TOLERANCE = 1e-12;

/** Fold of each query: within each label, queries in row order get folds 0, 1, 2, 3, 4, 0, 1, ... */
export function stratifiedFolds(labels: Int32Array, labelCount: number): Int32Array {
  const seen = new Int32Array(labelCount);
  return labels.map((label) => seen[label]++ % FOLDS);
}

/**
 * The rows the model is fitted on: the vectors themselves when d <= n, else their coordinates in an orthonormal
 * basis of the span of all n rows (see the top): Z = G U diag(l)^-1/2 for G = U diag(l) U^T, one product on the Gemm
 * kernel (so identical rows get identical coordinates). Row-major n x width.
 */
export async function classifierFeatures(
  vectors: Float64Array,
  gram: Float64Array,
  n: number,
  d: number,
): Promise<{ features: Float64Array; width: number }> {
  if (d <= n) return { features: vectors, width: d };
  const { values, vectors: u } = symmetricEigenTop(gram.slice(), n, n);
  let width = 0;
  while (width < n && values[width] > SPAN_TOLERANCE * values[0]) width++;
  const basis = new Float64Array(n * width);
  for (let a = 0; a < n; a++)
    for (let c = 0; c < width; c++) basis[a * width + c] = u[a * n + c] / Math.sqrt(values[c]);
  return { features: await gemm(gram, basis, n, n, width), width };
}

export interface CrossValidation {
  /** Predicted label of each query, by the model trained on the other folds. */
  predictions: Int32Array;
  /** n x labelCount class probabilities behind the predictions. */
  probabilities: Float64Array;
  folds: Int32Array;
}

/** Cross-validated logistic-regression predictions from the n feature rows (n x width). */
export async function crossValidate(
  features: Float64Array,
  width: number,
  n: number,
  labels: Int32Array,
  labelCount: number,
): Promise<CrossValidation> {
  const folds = stratifiedFolds(labels, labelCount);
  const predictions = new Int32Array(n);
  const probabilities = new Float64Array(n * labelCount);
  for (let fold = 0; fold < FOLDS; fold++) {
    const test: number[] = [];
    const train: number[] = [];
    for (let i = 0; i < n; i++) (folds[i] === fold ? test : train).push(i);
    if (test.length === 0) continue;
    const trainLabels = Int32Array.from(train, (i) => labels[i]);
    const model = await fitLogistic(rowsOf(features, width, train), train.length, width, trainLabels, labelCount);
    const p = await predictProbabilities(model, rowsOf(features, width, test), test.length);
    const predicted = argmaxRows(p, test.length, labelCount);
    test.forEach((i, t) => {
      predictions[i] = predicted[t];
      probabilities.set(p.subarray(t * labelCount, (t + 1) * labelCount), i * labelCount);
    });
  }
  return { predictions, probabilities, folds };
}

/** The given rows of a row-major matrix of `width` columns. */
function rowsOf(matrix: Float64Array, width: number, rows: number[]): Float64Array {
  const out = new Float64Array(rows.length * width);
  rows.forEach((i, r) => out.set(matrix.subarray(i * width, (i + 1) * width), r * width));
  return out;
}

/** Share of queries whose prediction equals their label. */
export function accuracy(predictions: Int32Array, labels: Int32Array): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) correct++;
  return correct / labels.length;
}

/** scikit-learn's f1_score(labels, predictions, average='macro') (zero_division 0); see the top. */
export function macroF1(predictions: Int32Array, labels: Int32Array, labelCount: number): number {
  const truePositives = new Int32Array(labelCount);
  const predicted = new Int32Array(labelCount);
  const actual = new Int32Array(labelCount);
  for (let i = 0; i < labels.length; i++) {
    predicted[predictions[i]]++;
    actual[labels[i]]++;
    if (predictions[i] === labels[i]) truePositives[labels[i]]++;
  }
  let sum = 0;
  let present = 0;
  for (let k = 0; k < labelCount; k++) {
    if (predicted[k] === 0 && actual[k] === 0) continue;
    present++;
    const precision = predicted[k] === 0 ? 0 : truePositives[k] / predicted[k];
    const recall = actual[k] === 0 ? 0 : truePositives[k] / actual[k];
    const denominator = precision + recall;
    sum += denominator === 0 ? 0 : (2 * precision * recall) / denominator;
  }
  return present === 0 ? 0 : sum / present;
}

/** The UserError for labels with fewer than 2 queries (or fewer than 2 labels); names from `labelNames` when given. */
export function checkClassificationLabels(labels: Int32Array, labelCount: number, labelNames?: readonly string[]): void {
  const counts = new Int32Array(labelCount);
  for (const label of labels) counts[label]++;
  const lonely: string[] = [];
  counts.forEach((count, k) => {
    const name = JSON.stringify(labelNames?.[k] ?? `#${k + 1}`);
    if (count < 2) lonely.push(`${name} (${count} ${count === 1 ? 'query' : 'queries'})`);
  });
  if (lonely.length > 0)
    throw new UserError(
      `classification needs at least 2 queries per label; too few for label${lonely.length > 1 ? 's' : ''} ${lonely.join(', ')}`,
    );
  if (labelCount < 2) throw new UserError('classification needs at least 2 different labels');
}

/**
 * The classification score of one (model, task): values [accuracy, macroF1, kNNAccuracy]; mainOn = accuracy of the
 * fixed cross-validated predictions on a resample of the queries. `vectors`: n x d row-major, L2-normalised;
 * `labels`: 0..labelCount-1 per row; `labelNames` (optional) names them in the error for labels with one query.
 */
export async function scoreClassification(
  vectors: Float64Array,
  n: number,
  d: number,
  labels: Int32Array,
  labelCount: number,
  labelNames?: readonly string[],
): Promise<KindScore> {
  checkClassificationLabels(labels, labelCount, labelNames);
  // The k-NN's ties go to the lower index: identical rows must get identical similarities.
  const gram = await gramOf(vectors, n, d, undefined, false, true);
  const { features, width } = await classifierFeatures(vectors, gram, n, d);
  const { predictions } = await crossValidate(features, width, n, labels, labelCount);
  const neighbours = knnPredictions(gram, n, labels, labelCount);
  const correct = Uint8Array.from(predictions, (p, i) => (p === labels[i] ? 1 : 0));
  return {
    n,
    values: [accuracy(predictions, labels), macroF1(predictions, labels, labelCount), accuracy(neighbours, labels)],
    mainOn(sample: Int32Array): number {
      let hits = 0;
      for (let x = 0; x < sample.length; x++) hits += correct[sample[x]];
      return hits / sample.length;
    },
  };
}
