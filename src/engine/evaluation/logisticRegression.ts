/**
 * L2-regularised multinomial logistic regression of EVAL.md ("classification"): minimise
 *   sum_i [ logsumexp(W f_i + b) - (W f_i + b)_{y_i} ] + ||W||^2 / (2C),  C = 1, the intercept b not penalised,
 * with one weight row per class (the symmetric parameterisation of scikit-learn's multinomial LogisticRegression; for
 * two classes it equals sklearn's binary model with C doubled), from W = 0, b = 0, by L-BFGS to ||gradient||_2 < 1e-6.
 *
 * The features f_i are given row-major (rows x width); classification.ts passes either the vectors themselves or
 * their coordinates in an orthonormal basis of a span holding the training rows (the optimum W lies in that span, so
 * the objective, its optimum and the gradient norm are the same there). The two products of each evaluation (F W^T
 * and (P - Y)^T F) run on the Gemm kernel: about 9x the JS loops at n = 160, width 200, 5 classes.
 */
import { gemm } from '../kernels/gemm';
import { minimizeLbfgs } from './lbfgs';

export const REGULARISATION_C = 1;
export const GRADIENT_TOLERANCE = 1e-6;

export interface LogisticModel {
  classes: number;
  width: number;
  /** classes x width, row-major. */
  weights: Float64Array;
  /** One intercept per class. */
  intercepts: Float64Array;
}

/** Fits the model to `rows` feature rows with labels in 0..classes-1. */
export async function fitLogistic(
  features: Float64Array,
  rows: number,
  width: number,
  labels: Int32Array,
  classes: number,
): Promise<LogisticModel> {
  const weightCount = classes * width;
  const logits = new Float64Array(rows * classes);
  const objective = async (theta: Float64Array, gradient: Float64Array): Promise<number> => {
    const weights = theta.subarray(0, weightCount);
    const intercepts = theta.subarray(weightCount);
    await linearScores(features, rows, width, weights, intercepts, classes, logits);
    let loss = 0;
    // Residuals P - Y overwrite the logits row by row.
    for (let i = 0; i < rows; i++) {
      const at = i * classes;
      const lse = logSumExp(logits, at, classes);
      loss += lse - logits[at + labels[i]];
      for (let k = 0; k < classes; k++) logits[at + k] = Math.exp(logits[at + k] - lse);
      logits[at + labels[i]] -= 1;
    }
    const weightGradient = gradient.subarray(0, weightCount);
    await gemm(logits, features, classes, rows, width, { transA: true, out: weightGradient });
    let penalty = 0;
    for (let x = 0; x < weightCount; x++) {
      penalty += weights[x] * weights[x];
      weightGradient[x] += weights[x] / REGULARISATION_C;
    }
    gradient.fill(0, weightCount);
    for (let i = 0; i < rows; i++) for (let k = 0; k < classes; k++) gradient[weightCount + k] += logits[i * classes + k];
    return loss + penalty / (2 * REGULARISATION_C);
  };
  const { x } = await minimizeLbfgs(objective, new Float64Array(weightCount + classes), {
    tolerance: GRADIENT_TOLERANCE,
  });
  return { classes, width, weights: x.slice(0, weightCount), intercepts: x.slice(weightCount) };
}

/** Class probabilities (rows x classes) of feature rows. */
export async function predictProbabilities(model: LogisticModel, features: Float64Array, rows: number): Promise<Float64Array> {
  const { classes } = model;
  const out = new Float64Array(rows * classes);
  await linearScores(features, rows, model.width, model.weights, model.intercepts, classes, out);
  for (let i = 0; i < rows; i++) {
    const at = i * classes;
    const lse = logSumExp(out, at, classes);
    for (let k = 0; k < classes; k++) out[at + k] = Math.exp(out[at + k] - lse);
  }
  return out;
}

/** The most probable class of each row; a tie goes to the lower class index. */
export function argmaxRows(scores: Float64Array, rows: number, classes: number): Int32Array {
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (scores[i * classes + k] > scores[i * classes + best]) best = k;
    out[i] = best;
  }
  return out;
}

/** out (rows x classes) = F W^T + b. */
async function linearScores(
  features: Float64Array,
  rows: number,
  width: number,
  weights: Float64Array,
  intercepts: Float64Array,
  classes: number,
  out: Float64Array,
): Promise<void> {
  await gemm(features, weights, rows, width, classes, { transB: true, out });
  for (let i = 0; i < rows; i++) for (let k = 0; k < classes; k++) out[i * classes + k] += intercepts[k];
}

/** log sum exp of values[at .. at + count - 1]. */
function logSumExp(values: Float64Array, at: number, count: number): number {
  let max = -Infinity;
  for (let k = at; k < at + count; k++) if (values[k] > max) max = values[k];
  let sum = 0;
  for (let k = at; k < at + count; k++) sum += Math.exp(values[k] - max);
  return max + Math.log(sum);
}
