/**
 * The classification kind of EVAL.md: accuracy (main) and macro-F1 of a multinomial logistic regression
 * (logisticRegression.ts) in 5-fold stratified cross-validation with deterministic folds, and leave-one-out kNN
 * accuracy (knn.ts). The bootstrap re-scores the fixed cross-validated predictions.
 *
 * Choices EVAL.md leaves open (docs/EVALUATION.md "Classification"):
 * - When d exceeds the number of training rows, the model is fitted on the rows' coordinates in an orthonormal basis
 *   of their span, from the eigendecomposition of their Gram matrix G = U diag(l) U^T: coordinates G[:, train] U
 *   diag(l)^-1/2. The optimum W lies in that span (its gradient condition puts it there), so the fit is the same
 *   model in r <= rows dimensions instead of d; directions with l <= 1e-12 l_max (duplicate rows, rounding) are
 *   dropped, which moves no logit by more than rounding.
 * - Macro-F1 is scikit-learn's f1_score(average='macro', zero_division=0): the mean over the labels present in the
 *   true or predicted labels of 2PR / (P + R), a precision or recall of 0/0 being 0, an F of 0/0 being 0.
 */
import { UserError } from '../errors';
import { gramOf } from '../kernels/gemm';
import { symmetricEigenTop } from '../kernels/linalg';
import { knnPredictions } from './knn';
import { argmaxRows, fitLogistic, predictProbabilities } from './logisticRegression';
import type { KindScore } from './scorer';

export const FOLDS = 5;
/** Eigen-directions of the training Gram matrix below this share of the largest eigenvalue are dropped. */
const SPAN_TOLERANCE = 1e-12;

/** Fold of each query: within each label, queries in row order get folds 0, 1, 2, 3, 4, 0, 1, ... */
export function stratifiedFolds(labels: Int32Array, labelCount: number): Int32Array {
  const seen = new Int32Array(labelCount);
  return labels.map((label) => seen[label]++ % FOLDS);
}

export interface CrossValidation {
  /** Predicted label of each query, by the model trained on the other folds. */
  predictions: Int32Array;
  /** n x labelCount class probabilities behind the predictions. */
  probabilities: Float64Array;
  folds: Int32Array;
}

/**
 * Cross-validated logistic-regression predictions. `gram` is the n x n Gram matrix of the vectors (used when d
 * exceeds a fold's training rows).
 */
export function crossValidate(
  vectors: Float64Array,
  gram: Float64Array,
  n: number,
  d: number,
  labels: Int32Array,
  labelCount: number,
): CrossValidation {
  const folds = stratifiedFolds(labels, labelCount);
  const predictions = new Int32Array(n);
  const probabilities = new Float64Array(n * labelCount);
  for (let fold = 0; fold < FOLDS; fold++) {
    const test: number[] = [];
    const train: number[] = [];
    for (let i = 0; i < n; i++) (folds[i] === fold ? test : train).push(i);
    if (test.length === 0) continue;
    const { features, width } = d <= train.length ? rowsOf(vectors, d, train, test) : spanCoordinates(gram, n, train, test);
    const trainLabels = Int32Array.from(train, (i) => labels[i]);
    const model = fitLogistic(features, train.length, width, trainLabels, labelCount);
    const p = predictProbabilities(model, features.subarray(train.length * width), test.length);
    const predicted = argmaxRows(p, test.length, labelCount);
    test.forEach((i, t) => {
      predictions[i] = predicted[t];
      probabilities.set(p.subarray(t * labelCount, (t + 1) * labelCount), i * labelCount);
    });
  }
  return { predictions, probabilities, folds };
}

/** Feature rows: the training rows, then the test rows. */
interface FoldFeatures {
  features: Float64Array;
  width: number;
}

function rowsOf(vectors: Float64Array, d: number, train: number[], test: number[]): FoldFeatures {
  const rows = [...train, ...test];
  const features = new Float64Array(rows.length * d);
  rows.forEach((i, r) => features.set(vectors.subarray(i * d, (i + 1) * d), r * d));
  return { features, width: d };
}

/** Coordinates of the training and test rows in an orthonormal basis of the training rows' span (see the top). */
function spanCoordinates(gram: Float64Array, n: number, train: number[], test: number[]): FoldFeatures {
  const m = train.length;
  const trainGram = new Float64Array(m * m);
  for (let a = 0; a < m; a++) for (let b = 0; b <= a; b++) trainGram[a * m + b] = gram[train[a] * n + train[b]];
  const { values, vectors: u } = symmetricEigenTop(trainGram, m, m);
  let width = 0;
  while (width < m && values[width] > SPAN_TOLERANCE * values[0]) width++;
  const scale = Float64Array.from(values.subarray(0, width), (l) => 1 / Math.sqrt(l));
  const rows = [...train, ...test];
  const features = new Float64Array(rows.length * width);
  const column = new Float64Array(width);
  rows.forEach((i, r) => {
    column.fill(0);
    for (let a = 0; a < m; a++) {
      const g = gram[i * n + train[a]];
      for (let c = 0; c < width; c++) column[c] += g * u[a * m + c];
    }
    for (let c = 0; c < width; c++) features[r * width + c] = column[c] * scale[c];
  });
  return { features, width };
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
    if (count < 2) lonely.push(`${JSON.stringify(labelNames?.[k] ?? `#${k + 1}`)} (${count} ${count === 1 ? 'query' : 'queries'})`);
  });
  if (lonely.length > 0)
    throw new UserError(`classification needs at least 2 queries per label; too few for label${lonely.length > 1 ? 's' : ''} ${lonely.join(', ')}`);
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
  const gram = await gramOf(vectors, n, d);
  const { predictions } = crossValidate(vectors, gram, n, d, labels, labelCount);
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
