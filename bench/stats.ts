/** Repetition summaries and formatting for the benchmark tables. */

export interface Summary {
  median: number;
  min: number;
  max: number;
  reps: number;
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error('no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], reps: sorted.length };
}

/** Ratios of paired repetitions (a[i] / b[i]), summarised; the spread shows how noisy the pairing was. */
export function pairedRatio(a: readonly number[], b: readonly number[]): Summary {
  const count = Math.min(a.length, b.length);
  return summarize(Array.from({ length: count }, (_, i) => a[i] / b[i]));
}

export function seconds(s: Summary): string {
  return `${fmt(s.median)} s (${fmt(s.min)}–${fmt(s.max)}, ${s.reps}×)`;
}

export function ms(s: Summary): string {
  return `${fmt(s.median)} ms (${fmt(s.min)}–${fmt(s.max)}, ${s.reps}×)`;
}

export function ratio(s: Summary): string {
  return `${fmt(s.median)}× (${fmt(s.min)}–${fmt(s.max)})`;
}

export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

/** "met", or how far off: "missed: 3.2× the target 1.5×". `lowerIsBetter` targets are upper bounds. */
export function verdict(value: number, target: number, unit = '×'): string {
  if (value <= target) return `met (≤ ${target}${unit})`;
  return `MISSED by ${fmt(value / target)}× (${fmt(value)}${unit} vs target ≤ ${target}${unit})`;
}

/** a / b for two unpaired sets of repetitions: ratio of medians, spread from the extreme combinations. */
export function ratioOf(a: Summary, b: Summary): Summary {
  return { median: a.median / b.median, min: a.min / b.max, max: a.max / b.min, reps: Math.min(a.reps, b.reps) };
}
