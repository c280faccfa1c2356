/**
 * The files an analysis writes into its output folder: results.json, displacement.csv, procrustes.csv and
 * report.html. Nothing else in the folder is touched, and none of these is overwritten unless asked.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { renderReport } from '../../report/report';
import { writeFileAtomic } from './atomicWrite';
import { UserError } from '../errors';
import type { AnalysisResult } from '../types';

export const RESULTS_FILE = 'results.json';
export const DISPLACEMENT_FILE = 'displacement.csv';
export const PROCRUSTES_FILE = 'procrustes.csv';
export const REPORT_FILE = 'report.html';
export const OUTPUT_FILES = [RESULTS_FILE, DISPLACEMENT_FILE, PROCRUSTES_FILE, REPORT_FILE] as const;

/** results.json: the AnalysisResult as pretty JSON. Same result, same bytes. */
export function resultsJson(result: AnalysisResult): string {
  return JSON.stringify(result, null, 2) + '\n';
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

/** One row per (model, non-Base task), RFC 4180 (CRLF line ends, quoted where needed); an empty field for null. */
export function displacementCsv(result: AnalysisResult): string {
  const rows = result.displacement.map((row) => DISPLACEMENT_COLUMNS.map((column) => row[column]));
  return csv([[...DISPLACEMENT_COLUMNS], ...rows]);
}

/** The M x M Procrustes distance matrix: header row and first column are model names; row = source, column = target. */
export function procrustesCsv(result: AnalysisResult): string {
  return csv([['model', ...result.models], ...result.models.map((model, i) => [model, ...result.procrustesDistance[i]])]);
}

function csv(rows: (string | number | null)[][]): string {
  return rows.map((row) => row.map(csvField).join(',') + '\r\n').join('');
}

function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
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
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw new UserError('output path exists and is not a folder', dir);
    if (code === 'EACCES' || code === 'EPERM') throw new UserError('permission denied', dir);
    throw error;
  }
  const clashes = OUTPUT_FILES.filter((name) => entries.includes(name));
  if (clashes.length > 0 && !force) {
    throw new UserError(
      `output folder already contains ${clashes.join(', ')}; not overwriting (use --force to replace these files)`,
      dir,
    );
  }
}

/** Writes the four output files into `dir` (created if needed), each atomically. Returns the paths written. */
export async function writeOutputs(dir: string, result: AnalysisResult, options: { force: boolean }): Promise<string[]> {
  await checkOutputDir(dir, options.force);
  // The report is rendered first: it needs the built assets, and a missing asset must not leave a partial set.
  const contents: [string, string][] = [
    [RESULTS_FILE, resultsJson(result)],
    [DISPLACEMENT_FILE, displacementCsv(result)],
    [PROCRUSTES_FILE, procrustesCsv(result)],
    [REPORT_FILE, renderReport(result)],
  ];
  await fs.mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, text] of contents) {
    const file = path.join(dir, name);
    await writeFileAtomic(file, text);
    written.push(file);
  }
  return written;
}
