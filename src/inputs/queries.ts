/**
 * Query files: .txt, .jsonl (.ndjson), .csv, .tsv and .json, UTF-8 with or without BOM.
 * - .txt: one query per line; blank lines and lines starting with '#' are skipped.
 * - .jsonl: one JSON value per line: an object with `text` or `query` (string) and an optional `id`, or a string.
 * - .csv / .tsv: if the first row names a column `text` or `query` (any case) it is a header, that column holds the
 *   queries and a column `id` (if any) the ids; otherwise every row is data and the first column holds the queries.
 * - .json: an array of strings or of objects as in .jsonl.
 * Queries are trimmed; a duplicate query is reported and kept once (its first occurrence).
 */
import * as path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { isSeq, LineCounter, parseDocument } from 'yaml';
import { UserError } from '../engine/errors';
import { jsonSyntaxError, parseJsonOrThrow } from './json';
import { checkTextLength } from './limits';
import { readUtf8File } from '../engine/io/textFile';

export const QUERY_FILE_EXTENSIONS = ['.txt', '.jsonl', '.ndjson', '.csv', '.tsv', '.json'];
export const MIN_QUERIES = 3;

export interface DuplicateQuery {
  text: string;
  /** 1-based lines of every occurrence, the kept first one included. */
  lines: number[];
}

export interface QueryFile {
  queries: string[];
  /** 1-based line where each kept query starts; parallel to `queries`. */
  lines: number[];
  /** Present when the file gives ids; parallel to `queries`. */
  ids?: string[];
  duplicates: DuplicateQuery[];
}

interface Entry {
  text: string;
  line: number;
  id?: string;
}

export async function readQueries(file: string): Promise<QueryFile> {
  const extension = path.extname(file).toLowerCase();
  if (!QUERY_FILE_EXTENSIONS.includes(extension)) {
    throw new UserError(
      `unsupported query file extension '${extension || '(none)'}'; use one of ${QUERY_FILE_EXTENSIONS.join(', ')}`,
      file,
    );
  }
  const content = await readUtf8File(file);
  return parseQueries(content, file);
}

/** Parses query file content (already decoded); the format follows `file`'s extension. */
export function parseQueries(content: string, file: string): QueryFile {
  const extension = path.extname(file).toLowerCase();
  let entries: Entry[];
  switch (extension) {
    case '.txt':
      entries = parseTxt(content);
      break;
    case '.jsonl':
    case '.ndjson':
      entries = parseJsonl(content, file);
      break;
    case '.csv':
    case '.tsv':
      entries = parseDelimited(content, file, extension === '.tsv' ? '\t' : ',');
      break;
    case '.json':
      entries = parseJsonArray(content, file);
      break;
    default:
      throw new UserError(`unsupported query file extension '${extension}'`, file);
  }
  return collect(entries, file);
}

function parseTxt(content: string): Entry[] {
  const entries: Entry[] = [];
  content.split('\n').forEach((raw, i) => {
    const text = raw.trim();
    if (text !== '' && !text.startsWith('#')) entries.push({ text, line: i + 1 });
  });
  return entries;
}

/** Reads `text`/`query` and `id` from one parsed JSON value (a string or an object). */
function entryFromValue(value: unknown, line: number, file: string, where: string): Entry {
  if (typeof value === 'string') return { text: requireText(value, file, line, where), line };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UserError(`${where}expected a string or an object with a "text" or "query" field`, file, line);
  }
  const record = value as Record<string, unknown>;
  if ('text' in record && 'query' in record) {
    throw new UserError(`${where}both "text" and "query" are given; keep one`, file, line);
  }
  const field = 'text' in record ? 'text' : 'query' in record ? 'query' : undefined;
  if (field === undefined) throw new UserError(`${where}missing "text" (or "query") field`, file, line);
  const text = record[field];
  if (typeof text !== 'string') throw new UserError(`${where}"${field}" must be a string`, file, line);
  const entry: Entry = { text: requireText(text, file, line, where), line };
  if (record.id !== undefined) {
    if (typeof record.id !== 'string' && typeof record.id !== 'number') {
      throw new UserError(`${where}"id" must be a string or a number`, file, line);
    }
    entry.id = String(record.id);
  }
  return entry;
}

function requireText(text: string, file: string, line: number, where: string): string {
  const trimmed = text.trim();
  if (trimmed === '') throw new UserError(`${where}the query text is empty`, file, line);
  return trimmed;
}

function parseJsonl(content: string, file: string): Entry[] {
  const entries: Entry[] = [];
  content.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new UserError(jsonSyntaxError(raw).problem, file, i + 1);
    }
    entries.push(entryFromValue(value, i + 1, file, ''));
  });
  return entries;
}

function parseDelimited(content: string, file: string, delimiter: string): Entry[] {
  // One line-ending style, so that the parser's line counts hold inside quoted multi-line fields.
  const text = content.replace(/\r\n?/g, '\n');
  let rows: Array<{ record: string[]; info: { lines: number }; raw: string }>;
  let lastRecordEnd = 0;
  try {
    rows = parseCsv(text, {
      delimiter,
      info: true,
      raw: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      on_record: (record: string[], context: { lines: number }) => {
        lastRecordEnd = context.lines;
        return record;
      },
    }) as unknown as typeof rows;
  } catch (error) {
    const csvError = error as Error & { code?: string; lines?: number };
    const format = delimiter === '\t' ? 'TSV' : 'CSV';
    if (csvError.code === 'CSV_QUOTE_NOT_CLOSED') {
      // The parser reports the end of the file; point at the record that opened the quote instead.
      const lines = text.split('\n');
      let line = lastRecordEnd + 1;
      while (line < lines.length && lines[line - 1].trim() === '') line++;
      throw new UserError(`invalid ${format}: a quoted field starting on this line is never closed`, file, line);
    }
    throw new UserError(`invalid ${format}: ${csvError.message}`, file, csvError.lines);
  }
  if (rows.length === 0) return [];
  // info.lines is the line where a record ends; a quoted field may span several lines.
  const startLine = (row: (typeof rows)[number]): number =>
    row.info.lines - (row.raw.replace(/\r?\n$/, '').match(/\n/g)?.length ?? 0);
  const header = rows[0].record.map((cell) => cell.trim().toLowerCase());
  const textColumn = header.includes('text') ? header.indexOf('text') : header.indexOf('query');
  const hasHeader = textColumn >= 0;
  if (!hasHeader && header.includes('id')) {
    throw new UserError('the header has an "id" column but no "text" or "query" column', file, startLine(rows[0]));
  }
  const idColumn = hasHeader ? header.indexOf('id') : -1;
  const entries: Entry[] = [];
  for (const row of rows.slice(hasHeader ? 1 : 0)) {
    const line = startLine(row);
    const cell = row.record[hasHeader ? textColumn : 0];
    if (cell === undefined) throw new UserError(`missing the "${header[textColumn]}" column`, file, line);
    const entry: Entry = { text: requireText(cell, file, line, ''), line };
    if (idColumn >= 0) {
      const id = row.record[idColumn]?.trim();
      if (id) entry.id = id;
    }
    entries.push(entry);
  }
  return entries;
}

function parseJsonArray(content: string, file: string): Entry[] {
  if (content.trim() === '') return [];
  const values = parseJsonOrThrow(content, file);
  if (!Array.isArray(values)) throw new UserError('expected a JSON array of strings or of objects with "text"', file, 1);
  // Values come from JSON.parse; the yaml parser (which reads JSON too) only gives each item's line.
  const lineCounter = new LineCounter();
  const root = parseDocument(content, { lineCounter }).contents;
  const itemLine = (i: number): number => {
    const range = isSeq(root) ? (root.items[i] as { range?: [number, number, number] } | null)?.range : undefined;
    return range ? lineCounter.linePos(range[0]).line : 1;
  };
  return values.map((value, i) => entryFromValue(value, itemLine(i), file, `item ${i + 1}: `));
}

function collect(entries: Entry[], file: string): QueryFile {
  if (entries.length === 0) throw new UserError('no queries found (the file is empty or has only comments)', file);
  for (const entry of entries) checkTextLength(entry.text, 'the query', file, entry.line);
  const withId = entries.filter((e) => e.id !== undefined).length;
  if (withId > 0 && withId < entries.length) {
    const missing = entries.find((e) => e.id === undefined)!;
    throw new UserError('this query has no id while others have one: give every query an id, or none', file, missing.line);
  }
  const firstByText = new Map<string, DuplicateQuery>();
  const kept: Entry[] = [];
  for (const entry of entries) {
    const seen = firstByText.get(entry.text);
    if (seen) seen.lines.push(entry.line);
    else {
      firstByText.set(entry.text, { text: entry.text, lines: [entry.line] });
      kept.push(entry);
    }
  }
  if (kept.length < MIN_QUERIES) {
    throw new UserError(`only ${kept.length} distinct ${kept.length === 1 ? 'query' : 'queries'}; at least ${MIN_QUERIES} are needed`, file);
  }
  const result: QueryFile = {
    queries: kept.map((e) => e.text),
    lines: kept.map((e) => e.line),
    duplicates: [...firstByText.values()].filter((d) => d.lines.length > 1),
  };
  if (withId > 0) {
    const lineById = new Map<string, number>();
    for (const entry of kept) {
      const previous = lineById.get(entry.id!);
      if (previous !== undefined) throw new UserError(`duplicate id "${entry.id}" (first on line ${previous})`, file, entry.line);
      lineById.set(entry.id!, entry.line);
    }
    result.ids = kept.map((e) => e.id!);
  }
  return result;
}
