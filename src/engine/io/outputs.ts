/**
 * The files an analysis writes into its output folder: results.json, displacement.csv, procrustes.csv,
 * report.html and, when the task evaluation has rows, evaluation.csv. Nothing else in the folder is touched, and none
 * of these is overwritten unless asked.
 */
import * as fs from 'node:fs/promises';
import { forceHint } from './forceHint';
import * as path from 'node:path';
import { renderReport } from '../../report/report';
import { writeFileAtomic } from './atomicWrite';
import { UserError } from '../errors';
import { analysisResultProblem } from '../../protocol';
import { checkWritableFolder } from './writable';
import type { AnalysisResult } from '../types';
import { type CsvTable, csvProvenanceLines, withFormat } from './provenance';

export const RESULTS_FILE = 'results.json';
export const DISPLACEMENT_FILE = 'displacement.csv';
export const PROCRUSTES_FILE = 'procrustes.csv';
export const REPORT_FILE = 'report.html';
export const EVALUATION_FILE = 'evaluation.csv';
export const OUTPUT_FILES = [RESULTS_FILE, DISPLACEMENT_FILE, PROCRUSTES_FILE, REPORT_FILE, EVALUATION_FILE] as const;

/** results.json: the AnalysisResult as pretty JSON, `format` key first. Same result, same bytes. */
export function resultsJson(result: AnalysisResult): string {
  return JSON.stringify(withFormat(result), null, 2) + '\n';
}

const DISPLACEMENT_COLUMNS = [
  'model',
  'task',
  'meanCosineDistance',
  'medianCosineDistance',
  'p90CosineDistance',
  'trajectoryLength',
  'shiftFraction',
  'neighbourOverlap',
] as const;

/**
 * One row per (model, non-Base task), RFC 4180 (CRLF line ends, quoted where needed; an empty field for null), after
 * the provenance comment lines (csvProvenanceLines) as every table.
 */
export function displacementCsv(result: AnalysisResult): string {
  const rows = result.displacement.map((row) => DISPLACEMENT_COLUMNS.map((column) => row[column]));
  return csv('displacement', result, [[...DISPLACEMENT_COLUMNS], ...rows]);
}

/** The M x M Procrustes distance matrix: header row and first column are model names; row = source, column = target. */
export function procrustesCsv(result: AnalysisResult): string {
  return csv('procrustes', result, [['model', ...result.models], ...result.models.map((model, i) => [model, ...result.procrustesDistance[i]])]);
}

const EVALUATION_COLUMNS = [
  'model',
  'task',
  'kind',
  'metric',
  'value',
  'base',
  'delta',
  'ciLow',
  'ciHigh',
  'deltaCiLow',
  'deltaCiHigh',
  'home',
  'n',
] as const;

/**
 * One row per results.json `evaluation` row, same columns; a null or undefined (NaN) number is an empty field,
 * `home` is true/false.
 */
export function evaluationCsv(result: AnalysisResult): string {
  const field = (value: string | number | boolean | null): string | number =>
    value === null || (typeof value === 'number' && Number.isNaN(value)) ? '' : typeof value === 'boolean' ? String(value) : value;
  const rows = result.evaluation.map((row) => EVALUATION_COLUMNS.map((column) => field(row[column])));
  return csv('evaluation', result, [[...EVALUATION_COLUMNS], ...rows]);
}

function csv(table: CsvTable, result: AnalysisResult, rows: (string | number | null)[][]): string {
  return [...csvProvenanceLines(table, result), ...rows.map((row) => row.map(csvField).join(','))].map((line) => line + '\r\n').join('');
}

/** A field, quoted when it holds a comma, quote or line break, or a '#' (readers that skip comments must not cut it). */
function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n#]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Refuses (UserError) when `dir` is not a folder, or already holds any of our output files and `force` is not
 * set. Call before the analysis so the user does not wait for a run whose results cannot be written.
 */
export async function checkOutputDir(dir: string, force: boolean): Promise<void> {
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return checkWritableFolder(dir, 'output folder');
    if (code === 'ENOTDIR') throw new UserError('output path exists and is not a folder', dir);
    if (code === 'EACCES' || code === 'EPERM') throw new UserError('permission denied', dir);
    if (code === 'ELOOP') throw new UserError('output path is a symbolic link loop', dir);
    throw error;
  }
  const clashes = OUTPUT_FILES.filter((name) => entries.includes(name));
  if (clashes.length > 0 && !force) {
    throw new UserError(
      `output folder already contains ${clashes.join(', ')}; not overwriting (${forceHint('these files')})`,
      dir,
    );
  }
  for (const name of clashes) {
    // --force replaces files; a folder (or anything else) by an output's name would fail the last step of the run.
    const stat = await fs.lstat(path.join(dir, name));
    if (!stat.isFile() && !stat.isSymbolicLink()) {
      throw new UserError(`${name} here is ${stat.isDirectory() ? 'a folder' : 'not a regular file'}; it cannot be replaced by the results: move it away`, dir);
    }
  }
  await checkWritableFolder(dir, 'output folder');
}

/** Writes the output files (four, or five with an evaluation) into `dir` (created if needed), each atomically. Returns the paths written. */
export async function writeOutputs(dir: string, result: AnalysisResult, options: { force: boolean }): Promise<string[]> {
  await checkOutputDir(dir, options.force);
  // The report is rendered first: it needs the built assets, and a missing asset must not leave a partial set.
  const contents: [string, string | Uint8Array][] = [
    [RESULTS_FILE, resultsJson(result)],
    [DISPLACEMENT_FILE, displacementCsv(result)],
    [PROCRUSTES_FILE, procrustesCsv(result)],
    [REPORT_FILE, renderReport(result)],
  ];
  if (result.evaluation.length > 0) contents.push([EVALUATION_FILE, evaluationCsv(result)]);
  await fs.mkdir(dir, { recursive: true });
  // An evaluation.csv of an earlier run (replaced with --force) must not outlive a run that has no evaluation.
  if (result.evaluation.length === 0) await fs.rm(path.join(dir, EVALUATION_FILE), { force: true });
  const written: string[] = [];
  for (const [name, text] of contents) {
    const file = path.join(dir, name);
    await writeFileAtomic(file, text);
    written.push(file);
  }
  return written;
}

/** Reads a results.json written before; a file that is not one is a UserError naming it. */
export async function readResults(file: string): Promise<AnalysisResult> {
  let value: unknown;
  try {
    value = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (error) {
    throw new UserError(`cannot read results: ${error instanceof Error ? error.message : String(error)}`, file);
  }
  const problem = analysisResultProblem(value);
  if (problem) throw new UserError(`not an Instruction Lens results file: ${problem}`, file);
  return value as AnalysisResult;
}
