/**
 * Where a result came from, written into results.json (`provenance`, after the `format` key) and shown by
 * report.html. No date and no host name go in: results.json stays byte-identical across runs of the same input
 * (the file's own modification time says when it was written).
 */
import type { AnalysisOptions, AnalysisResult } from '../types';

/** The `format` key of results.json: files carrying it open with "Open Analysis Results". */
export const RESULTS_FORMAT = 'instruction-lens/results@1';

export interface ModelProvenance {
  /** The id the user gave (Hub id, folder, endpoint, bundle). */
  id: string;
  /** The name in the result's tables and plots. */
  name: string;
  /** The embedding cache identity: provider, model, revision or weights hash, dtype, pooling, normalisation. */
  identity: string;
}

export interface Provenance {
  tool: { name: 'instruction-lens'; version: string };
  queryFile?: string;
  instructions: { source: string; tasks: Array<{ name: string; instruction: string | null }> };
  evaluationFiles: string[];
  models: ModelProvenance[];
  /** The analysis as asked for (the result holds the effective k, points, MDS method). */
  options: { k?: number; points?: string; mds?: string; reference?: string; seed: number; neighbourOverlap?: boolean };
}

export function provenanceOptions(options: AnalysisOptions): Provenance['options'] {
  return {
    k: options.k,
    points: options.points,
    mds: options.mds,
    reference: options.reference,
    seed: options.seed ?? 0,
    neighbourOverlap: options.neighbourOverlap,
  };
}

/** The result as written: `format` first, then the result's own keys, `provenance` (when known) last. */
export function withFormat(result: AnalysisResult): AnalysisResult & { format: string } {
  const { provenance, ...rest } = result;
  const { format: _replaced, ...fields } = rest as typeof rest & { format?: unknown };
  return provenance ? { format: RESULTS_FORMAT, ...fields, provenance } : { format: RESULTS_FORMAT, ...fields };
}

/** The CSV tables an analysis writes, each with its own format name (the first comment line). */
export type CsvTable = 'displacement' | 'procrustes' | 'evaluation';

const CSV_FORMAT_PREFIX = 'instruction-lens/';

/**
 * The provenance of a CSV table as leading comment lines, `# key: value`, the value JSON (strings quoted, so that
 * line breaks, quotes and '#' in names stay on their line): the format first, then the tool, query file,
 * instruction set and each task's text, evaluation files, each model's name, id and identity, and the analysis as
 * it ran (N, k, points, MDS method, reference, seed). pandas reads the table with `comment='#'`, R with
 * `comment.char = "#"`, csv-parse with `comment: '#'`. Like results.json, no date: the same input gives the same bytes.
 */
export function csvProvenanceLines(table: CsvTable, result: AnalysisResult): string[] {
  const line = (key: string, value: unknown): string => `# ${key}: ${JSON.stringify(value)}`;
  const p = result.provenance;
  const lines = [line('format', `${CSV_FORMAT_PREFIX}${table}@1`)];
  if (p) {
    lines.push(line('tool', `${p.tool.name} ${p.tool.version}`));
    if (p.queryFile !== undefined) lines.push(line('query_file', p.queryFile));
    lines.push(line('instruction_set', p.instructions.source));
    for (const task of p.instructions.tasks) lines.push(line('task', { name: task.name, instruction: task.instruction }));
    for (const file of p.evaluationFiles) lines.push(line('evaluation_file', file));
    for (const model of p.models) lines.push(line('model', { name: model.name, id: model.id, identity: model.identity }));
  }
  lines.push(
    line('n', result.n),
    line('k', result.k),
    line('points', result.pointsMode),
    line('mds', result.mdsMethod),
    line('reference', result.reference),
  );
  if (p) lines.push(line('seed', p.options.seed));
  // Said only when off: the tables of a default analysis are unchanged by the option's existence.
  if (result.warningDetails.some((warning) => warning.code === 'neighbourOverlapOff')) lines.push(line('neighbour_overlap', false));
  return lines;
}

const DISPLACEMENT_HEADER = 'model,task,meanCosineDistance,';

export type AnalysisOutputKind = 'results' | 'table' | 'report';

/**
 * What an analysis output `file` is (results.json with the format key, a CSV table, report.html), from its first
 * bytes; undefined for anything else.
 */
export function analysisOutputKind(file: string, head: string): AnalysisOutputKind | undefined {
  const lower = file.toLowerCase();
  if (lower.endsWith('.json')) return /^\s*\{\s*"format"\s*:\s*"([^"]*)"/.exec(head)?.[1] === RESULTS_FORMAT ? 'results' : undefined;
  if (lower.endsWith('.html')) return head.includes('<title>Instruction Lens report</title>') ? 'report' : undefined;
  if (lower.endsWith('.csv')) {
    if (head.startsWith(`# format: "${CSV_FORMAT_PREFIX}`)) return 'table';
    // Tables written before they carried provenance: recognised by their header.
    const [header, first] = head.split(/\r?\n/);
    if (header.startsWith(DISPLACEMENT_HEADER)) return 'table';
    // procrustes.csv: "model" then the model names; rows of a name and numbers.
    const cells = first?.split(',') ?? [];
    return header.startsWith('model,') && cells.length === header.split(',').length && cells.slice(1).every((cell) => cell !== '' && Number.isFinite(Number(cell)))
      ? 'table'
      : undefined;
  }
  return undefined;
}
