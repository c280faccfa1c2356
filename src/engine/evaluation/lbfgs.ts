/**
 * L-BFGS (Nocedal and Wright, Numerical Optimization, algorithms 7.4 and 7.5) for smooth CONVEX objectives, run until
 * the Euclidean norm of the gradient is below a tolerance (EVAL.md: the logistic regression is "solved to a gradient
 * norm below 1e-6").
 *
 * The line search decides from directional derivatives phi'(a) = g(x + a p) . p, not only from function values: near
 * the optimum of a sum of a few hundred log-losses the decrease a step makes (about |g|^2 / L) falls under the
 * rounding of f itself, so an Armijo test on f alone can fail forever. For a convex phi, phi(a) - phi(0) <= a phi'(a),
 * so phi'(a) <= c1 phi'(0) certifies the Armijo condition exactly; with |phi'(a)| <= sigma |phi'(0)| (strong Wolfe)
 * the step is accepted. A step is also accepted on the usual Armijo test on f. Steps are bracketed and refined by
 * safeguarded secant steps on phi' (which increases along the line for a convex phi).
 */

/** f(x), writing the gradient into `gradient` (asynchronous: the products may run on the Gemm kernel). */
export type Objective = (x: Float64Array, gradient: Float64Array) => Promise<number>;

export interface LbfgsOptions {
  /** Stop when ||gradient||_2 < tolerance. */
  tolerance: number;
  /** Iterations before giving up (an Error: a convex smooth objective must converge). */
  maxIterations?: number;
  /** Correction pairs kept. */
  memory?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  value: number;
  gradientNorm: number;
  iterations: number;
}

const ARMIJO = 1e-4;
const CURVATURE = 0.9;
const MAX_LINE_STEPS = 60;

/** Minimises `objective` from `start` (not modified). */
export async function minimizeLbfgs(objective: Objective, start: Float64Array, options: LbfgsOptions): Promise<LbfgsResult> {
  const size = start.length;
  const memory = options.memory ?? 10;
  const maxIterations = options.maxIterations ?? 20000;
  const x = Float64Array.from(start);
  const g = new Float64Array(size);
  let f = await objective(x, g);
  const sHistory: Float64Array[] = [];
  const yHistory: Float64Array[] = [];
  const rho: number[] = [];
  const direction = new Float64Array(size);
  const trial = new Float64Array(size);
  const trialGradient = new Float64Array(size);
  const alpha = new Float64Array(memory);
  for (let iteration = 0; ; iteration++) {
    const gradientNorm = norm(g);
    if (gradientNorm < options.tolerance) return { x, value: f, gradientNorm, iterations: iteration };
    if (iteration >= maxIterations)
      throw new Error(`L-BFGS: gradient norm ${gradientNorm} after ${maxIterations} iterations`);
    twoLoopDirection(g, sHistory, yHistory, rho, alpha, direction);
    let slope = dot(g, direction);
    if (!(slope < 0)) {
      // Not a descent direction (rounding in the history): restart from steepest descent.
      sHistory.length = yHistory.length = rho.length = 0;
      for (let i = 0; i < size; i++) direction[i] = -g[i];
      slope = -gradientNorm * gradientNorm;
    }
    const firstStep = sHistory.length === 0 ? Math.min(1, 1 / gradientNorm) : 1;
    const step = await lineSearch(objective, x, f, slope, direction, firstStep, trial, trialGradient);
    if (step === null) {
      if (sHistory.length === 0) throw new Error(`L-BFGS: line search failed at gradient norm ${gradientNorm}`);
      sHistory.length = yHistory.length = rho.length = 0;
      continue;
    }
    const s = new Float64Array(size);
    const y = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      s[i] = trial[i] - x[i];
      y[i] = trialGradient[i] - g[i];
    }
    const sy = dot(s, y);
    if (sy > 0) {
      if (sHistory.length === memory) {
        sHistory.shift();
        yHistory.shift();
        rho.shift();
      }
      sHistory.push(s);
      yHistory.push(y);
      rho.push(1 / sy);
    }
    x.set(trial);
    g.set(trialGradient);
    f = step;
  }
}

/** direction = -H g by the two-loop recursion, H0 = (s.y / y.y) I from the newest pair. */
function twoLoopDirection(
  g: Float64Array,
  sHistory: Float64Array[],
  yHistory: Float64Array[],
  rho: number[],
  alpha: Float64Array,
  direction: Float64Array,
): void {
  const size = g.length;
  for (let i = 0; i < size; i++) direction[i] = -g[i];
  const pairs = sHistory.length;
  for (let j = pairs - 1; j >= 0; j--) {
    alpha[j] = rho[j] * dot(sHistory[j], direction);
    axpy(-alpha[j], yHistory[j], direction);
  }
  if (pairs > 0) {
    const y = yHistory[pairs - 1];
    const gamma = 1 / (rho[pairs - 1] * dot(y, y));
    for (let i = 0; i < size; i++) direction[i] *= gamma;
  }
  for (let j = 0; j < pairs; j++) {
    const beta = rho[j] * dot(yHistory[j], direction);
    axpy(alpha[j] - beta, sHistory[j], direction);
  }
}

/**
 * Finds a step a along `direction` meeting the conditions above; on success `trial` = x + a p, `trialGradient` its
 * gradient, and the return value is f there. Null when no step is found in MAX_LINE_STEPS evaluations.
 */
async function lineSearch(
  objective: Objective,
  x: Float64Array,
  f0: number,
  slope0: number,
  direction: Float64Array,
  firstStep: number,
  trial: Float64Array,
  trialGradient: Float64Array,
): Promise<number | null> {
  let low = 0;
  let lowSlope = slope0;
  let high = Infinity;
  let highSlope = 0;
  let step = firstStep;
  for (let evaluation = 0; evaluation < MAX_LINE_STEPS; evaluation++) {
    for (let i = 0; i < x.length; i++) trial[i] = x[i] + step * direction[i];
    const f = await objective(trial, trialGradient);
    const slope = dot(trialGradient, direction);
    const decreases = slope <= ARMIJO * slope0 || f <= f0 + ARMIJO * step * slope0;
    if (decreases && Math.abs(slope) <= -CURVATURE * slope0) return f;
    if (decreases && slope < 0) {
      low = step;
      lowSlope = slope;
    } else {
      high = step;
      highSlope = slope;
    }
    if (high === Infinity) {
      step = 4 * step;
    } else {
      // Secant step on phi' inside the bracket, kept away from its ends.
      const width = high - low;
      const secant = highSlope > lowSlope ? low - (lowSlope * width) / (highSlope - lowSlope) : low + width / 2;
      step = Math.min(high - 0.1 * width, Math.max(low + 0.1 * width, secant));
    }
  }
  return null;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function norm(a: Float64Array): number {
  return Math.sqrt(dot(a, a));
}

function axpy(scale: number, from: Float64Array, to: Float64Array): void {
  for (let i = 0; i < to.length; i++) to[i] += scale * from[i];
}
