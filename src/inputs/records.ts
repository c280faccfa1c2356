/**
 * The record readers every user file goes through: delimited text (CSV/TSV, via csv-parse) and JSON Lines, each
 * record with the 1-based line where it starts. Query files, pairs, corpora and qrels all use these two, so that
 * quoting, line endings and the lines in messages follow one rule.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { UserError } from '../engine/errors';
import { jsonSyntaxError } from './json';

export interface DelimitedRow {
  cells: string[];
  /** 1-based line where the record starts (a quoted field may span several lines). */
  line: number;
}

/** CSV (delimiter ',') or TSV ('\t') rows, untrimmed; blank lines skipped. */
export function readDelimitedRows(content: string, file: string, delimiter: ',' | '\t'): DelimitedRow[] {
  // One line-ending style, so that the parser's line counts hold inside quoted multi-line fields.
  const text = content.replace(/\r\n?/g, '\n');
  return (text.includes('"') ? undefined : unquotedRows(text, delimiter)) ?? rowsWithLines(text, file, delimiter);
}

const CSV_OPTIONS = { relax_column_count: true, relax_quotes: true, skip_empty_lines: true } as const;

/**
 * Without a quote, every record is one non-empty line, so the lines need not come from the parser (its per-record
 * info makes it several times slower: 100,000 qrels lines took 3 s instead of 0.3 s). Undefined when that does not
 * hold, or on any parse error: the general path then reports it.
 */
function unquotedRows(text: string, delimiter: string): DelimitedRow[] | undefined {
  let records: string[][];
  try {
    records = parseCsv(text, { delimiter, ...CSV_OPTIONS }) as string[][];
  } catch {
    return undefined;
  }
  const lines: number[] = [];
  let start = 0;
  for (let line = 1; start <= text.length; line++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end > start) lines.push(line);
    start = end + 1;
  }
  if (lines.length !== records.length) return undefined;
  return records.map((cells, i) => ({ cells, line: lines[i] }));
}

function rowsWithLines(text: string, file: string, delimiter: string): DelimitedRow[] {
  let rows: Array<{ record: string[]; info: { lines: number }; raw: string }>;
  let lastRecordEnd = 0;
  try {
    rows = parseCsv(text, {
      delimiter,
      info: true,
      raw: true,
      ...CSV_OPTIONS,
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
  // info.lines is the line where a record ends; a quoted field may span several lines. A record's raw text also
  // holds the empty lines skipped before it.
  return rows.map((row) => ({
    cells: row.record,
    line: row.info.lines - (row.raw.replace(/^\n+/, '').replace(/\n$/, '').match(/\n/g)?.length ?? 0),
  }));
}

export interface JsonLine {
  value: unknown;
  /** 1-based line. */
  line: number;
}

/** One JSON value per non-blank line; a syntax error names its line. */
export function readJsonLines(content: string, file: string): JsonLine[] {
  const values: JsonLine[] = [];
  content.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    try {
      values.push({ value: JSON.parse(raw), line: i + 1 });
    } catch {
      throw new UserError(jsonSyntaxError(raw).problem, file, i + 1);
    }
  });
  return values;
}

/** A JSON value that is an object (not null, not an array), as a record of its own fields. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** An own field of a parsed JSON object (never one inherited from Object.prototype, such as "constructor"). */
export function ownField(record: Record<string, unknown>, name: string): unknown {
  return Object.prototype.hasOwnProperty.call(record, name) ? record[name] : undefined;
}

/**
 * An id or a label as users write them: a string or a number (in JSON), trimmed; empty, or holding a line break (ids
 * and labels are written one per line in bundles), is an error naming the file and line.
 */
export function nameValue(value: unknown, field: string, file: string, line: number, where = ''): string {
  if (typeof value !== 'string' && typeof value !== 'number') throw new UserError(`${where}"${field}" must be a string or a number`, file, line);
  const name = String(value).trim();
  if (name === '') throw new UserError(`${where}"${field}" is empty`, file, line);
  if (/[\r\n]/.test(name)) throw new UserError(`${where}"${field}" contains a line break`, file, line);
  return name;
}
