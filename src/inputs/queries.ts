/**
 * Query files: .txt, .jsonl (.ndjson), .csv, .tsv and .json, UTF-8 with or without BOM.
 * - .txt: one query per line; blank lines and lines starting with '#' are skipped.
 * - .jsonl: one JSON value per line: an object with `text` or `query` (string) and an optional `id` (or BEIR's
 *   `_id`, so that BEIR's queries.jsonl is a query file as it is) and `label`, or a string.
 * - .csv / .tsv: if the first row names a column `text` or `query` (any case) it is a header, that column holds the
 *   queries, a column `id` (or `_id`) the ids and a column `label` the labels; otherwise every row is data and the
 *   first column holds the queries.
 * - .json: an array of strings or of objects as in .jsonl.
 * Queries, ids and labels are trimmed. Ids and labels are given for every query or for none; an id is unique and not
 * empty. A duplicate query is reported and kept once (its first occurrence) when it carries the same id and label as
 * that occurrence; a duplicate with another id or label is an error naming both lines (keeping either would silently
 * drop an id that pairs or qrels may name, or a label).
 */
import * as path from 'node:path';
import { isSeq, LineCounter, parseDocument } from 'yaml';
import { UserError } from '../engine/errors';
import { parseJsonOrThrow } from './json';
import { checkTextLength } from './limits';
import { isRecord, nameValue, ownField, readDelimitedRows, readJsonLines } from './records';
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
  /** Present when the file gives labels; parallel to `queries`. */
  labels?: string[];
  duplicates: DuplicateQuery[];
}

interface Entry {
  text: string;
  line: number;
  id?: string;
  label?: string;
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

/** Reads `text`/`query`, `id`/`_id` and `label` from one parsed JSON value (a string or an object). */
function entryFromValue(value: unknown, line: number, file: string, where: string): Entry {
  if (typeof value === 'string') return { text: requireText(value, file, line, where), line };
  if (!isRecord(value)) {
    throw new UserError(`${where}expected a string or an object with a "text" or "query" field`, file, line);
  }
  const text = ownField(value, 'text');
  const query = ownField(value, 'query');
  if (text !== undefined && query !== undefined) {
    throw new UserError(`${where}both "text" and "query" are given; keep one`, file, line);
  }
  const field = text !== undefined ? 'text' : query !== undefined ? 'query' : undefined;
  if (field === undefined) throw new UserError(`${where}missing "text" (or "query") field`, file, line);
  const content = text ?? query;
  if (typeof content !== 'string') throw new UserError(`${where}"${field}" must be a string`, file, line);
  const entry: Entry = { text: requireText(content, file, line, where), line };
  const id = ownField(value, 'id');
  const beirId = ownField(value, '_id');
  if (id !== undefined && beirId !== undefined) throw new UserError(`${where}both "id" and "_id" are given; keep one`, file, line);
  if (id !== undefined || beirId !== undefined) entry.id = nameValue(id ?? beirId, id !== undefined ? 'id' : '_id', file, line, where);
  const label = ownField(value, 'label');
  if (label !== undefined) entry.label = nameValue(label, 'label', file, line, where);
  return entry;
}

function requireText(text: string, file: string, line: number, where: string): string {
  const trimmed = text.trim();
  if (trimmed === '') throw new UserError(`${where}the query text is empty`, file, line);
  return trimmed;
}

function parseJsonl(content: string, file: string): Entry[] {
  return readJsonLines(content, file).map(({ value, line }) => entryFromValue(value, line, file, ''));
}

function parseDelimited(content: string, file: string, delimiter: ',' | '\t'): Entry[] {
  const rows = readDelimitedRows(content, file, delimiter);
  if (rows.length === 0) return [];
  const header = rows[0].cells.map((cell) => cell.trim().toLowerCase());
  const textColumn = header.includes('text') ? header.indexOf('text') : header.indexOf('query');
  const hasHeader = textColumn >= 0;
  if (!hasHeader && (header.includes('id') || header.includes('_id'))) {
    throw new UserError('the header has an "id" column but no "text" or "query" column', file, rows[0].line);
  }
  if (hasHeader && header.includes('id') && header.includes('_id')) {
    throw new UserError('the header has both "id" and "_id" columns; keep one', file, rows[0].line);
  }
  const idColumn = hasHeader ? (header.includes('id') ? header.indexOf('id') : header.indexOf('_id')) : -1;
  const labelColumn = hasHeader ? header.indexOf('label') : -1;
  const entries: Entry[] = [];
  for (const { cells, line } of rows.slice(hasHeader ? 1 : 0)) {
    const cell = cells[hasHeader ? textColumn : 0];
    if (cell === undefined) throw new UserError(`missing the "${header[textColumn]}" column`, file, line);
    const entry: Entry = { text: requireText(cell, file, line, ''), line };
    if (idColumn >= 0) entry.id = nameValue(cells[idColumn] ?? '', header[idColumn], file, line);
    if (labelColumn >= 0 && (cells[labelColumn] ?? '').trim() !== '') entry.label = nameValue(cells[labelColumn], 'label', file, line);
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
  const withId = requireAllOrNone(entries, (e) => e.id, 'id', file);
  const withLabel = requireAllOrNone(entries, (e) => e.label, 'label', file);
  const firstByText = new Map<string, { duplicate: DuplicateQuery; entry: Entry }>();
  const kept: Entry[] = [];
  for (const entry of entries) {
    const seen = firstByText.get(entry.text);
    if (seen) {
      checkSameAsFirst(entry, seen.entry, file);
      seen.duplicate.lines.push(entry.line);
    } else {
      firstByText.set(entry.text, { duplicate: { text: entry.text, lines: [entry.line] }, entry });
      kept.push(entry);
    }
  }
  if (kept.length < MIN_QUERIES) {
    throw new UserError(`only ${kept.length} distinct ${kept.length === 1 ? 'query' : 'queries'}; at least ${MIN_QUERIES} are needed`, file);
  }
  const result: QueryFile = {
    queries: kept.map((e) => e.text),
    lines: kept.map((e) => e.line),
    duplicates: [...firstByText.values()].map((d) => d.duplicate).filter((d) => d.lines.length > 1),
  };
  if (withId) {
    const lineById = new Map<string, number>();
    for (const entry of kept) {
      const previous = lineById.get(entry.id!);
      if (previous !== undefined) throw new UserError(`duplicate id "${entry.id}" (first on line ${previous})`, file, entry.line);
      lineById.set(entry.id!, entry.line);
    }
    result.ids = kept.map((e) => e.id!);
  }
  if (withLabel) result.labels = kept.map((e) => e.label!);
  return result;
}

/** True when every entry has the field, false when none has; a mix is an error at the first entry without it. */
function requireAllOrNone(entries: Entry[], field: (e: Entry) => string | undefined, name: string, file: string): boolean {
  const given = entries.filter((e) => field(e) !== undefined).length;
  if (given > 0 && given < entries.length) {
    const missing = entries.find((e) => field(e) === undefined)!;
    throw new UserError(`this query has no ${name} while others have one: give every query ${name === 'id' ? 'an' : 'a'} ${name}, or none`, file, missing.line);
  }
  return given > 0;
}

/** A repeated query is kept once only when nothing but its line differs from its first occurrence. */
function checkSameAsFirst(entry: Entry, first: Entry, file: string): void {
  for (const field of ['id', 'label'] as const) {
    if (entry[field] !== first[field]) {
      throw new UserError(
        `this query repeats the query on line ${first.line} with another ${field} ("${entry[field]}", there "${first[field]}"): remove one, or make the texts differ`,
        file,
        entry.line,
      );
    }
  }
}
