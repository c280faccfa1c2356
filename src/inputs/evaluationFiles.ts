/**
 * The labelled-data files of the task evaluation (docs/EVAL.md "Data"): STS pairs, a corpus and qrels, each CSV, TSV
 * (with a header) or JSON Lines, chosen by extension. BEIR's `corpus.jsonl` (`_id`, `title`, `text`) and
 * `qrels/*.tsv` (header `query-id corpus-id score`) are read as they are.
 *
 * - pairs: `id1`, `id2`, `score` (ids are query ids).
 * - corpus: `id` (or `_id`), `text`, optional `title`; a document with a title is embedded as title + " " + text.
 * - qrels: `query_id` (or `query-id`), `doc_id` (or `corpus_id`, `corpus-id`), `score`.
 * Header names are matched ignoring case, with `-` read as `_`; other columns and fields are ignored. Ids are trimmed,
 * never empty and never hold a line break; scores are finite numbers. Every problem is a UserError naming the file
 * and the 1-based line.
 *
 * resolveEvaluation() then checks every id against the query file and the corpus and builds the EvaluationData
 * aligned with the query rows. Ids are data: they live in Maps and arrays, never as object keys.
 */
import * as path from 'node:path';
import { UserError } from '../engine/errors';
import { DEFAULT_TASK_KINDS, type EvalKind, type EvaluationData } from '../engine/evaluation/types';
import { BASE_TASK } from '../engine/types';
import type { TaskSpec } from '../models/embedder';
import { isRecord, nameValue, ownField, readDelimitedRows, readJsonLines } from './records';
import { readUtf8File } from '../engine/io/textFile';

export const EVALUATION_FILE_EXTENSIONS = ['.csv', '.tsv', '.jsonl', '.ndjson'];

/** Why no reader takes `file` (its extension), or undefined when one does; `what` is pairs, corpus or qrels. */
export function evaluationExtensionProblem(file: string, what: string): string | undefined {
  const extension = path.extname(file).toLowerCase();
  if (EVALUATION_FILE_EXTENSIONS.includes(extension)) return undefined;
  return `unsupported ${what} file extension '${extension || '(none)'}'; use one of ${EVALUATION_FILE_EXTENSIONS.join(', ')}`;
}

export interface PairRecord {
  id1: string;
  id2: string;
  score: number;
  line: number;
}

export interface QrelRecord {
  queryId: string;
  docId: string;
  score: number;
  line: number;
}

export interface CorpusFile {
  ids: string[];
  /** The text each document is embedded as: title + " " + text, or the text alone. */
  texts: string[];
  /** 1-based line of each document. */
  lines: number[];
}

/** One field of a record: the names it may go by (normalised: lower case, `-` as `_`), the first one shown in messages. */
interface FieldSpec {
  names: readonly string[];
  required: boolean;
}

type Fields<K extends string> = Record<K, FieldSpec>;

const PAIR_FIELDS = {
  id1: { names: ['id1'], required: true },
  id2: { names: ['id2'], required: true },
  score: { names: ['score'], required: true },
} satisfies Fields<string>;

const QREL_FIELDS = {
  queryId: { names: ['query_id'], required: true },
  docId: { names: ['doc_id', 'corpus_id'], required: true },
  score: { names: ['score'], required: true },
} satisfies Fields<string>;

const CORPUS_FIELDS = {
  id: { names: ['id', '_id'], required: true },
  text: { names: ['text'], required: true },
  title: { names: ['title'], required: false },
} satisfies Fields<string>;

/** A record of one line: field -> raw value (string from CSV/TSV, any JSON value from JSON Lines). */
interface RawRecord<K extends string> {
  values: Map<K, unknown>;
  line: number;
}

function normalise(name: string): string {
  return name.trim().toLowerCase().replace(/-/g, '_');
}

/** Reads the records of a CSV/TSV (header required) or JSON Lines file into the given fields. */
function readRecords<K extends string>(content: string, file: string, fields: Fields<K>, what: string): RawRecord<K>[] {
  const extension = path.extname(file).toLowerCase();
  const keys = Object.keys(fields) as K[];
  const shown = (key: K): string => fields[key].names[0];
  const known = new Set(keys.flatMap((key) => fields[key].names));
  if (extension === '.jsonl' || extension === '.ndjson') {
    return readJsonLines(content, file).map(({ value, line }) => {
      if (!isRecord(value)) throw new UserError(`expected a JSON object with ${keys.map((k) => `"${shown(k)}"`).join(', ')}`, file, line);
      const byName = new Map<string, { name: string; value: unknown }>();
      for (const name of Object.keys(value)) {
        const key = normalise(name);
        if (!known.has(key)) continue;
        const other = byName.get(key);
        if (other) throw new UserError(`fields "${other.name}" and "${name}" are the same field; keep one`, file, line);
        byName.set(key, { name, value: ownField(value, name) });
      }
      const values = new Map<K, unknown>();
      for (const key of keys) {
        const given = fields[key].names.filter((name) => byName.has(name));
        if (given.length > 1) throw new UserError(`both "${given[0]}" and "${given[1]}" are given; keep one`, file, line);
        if (given.length === 1) values.set(key, byName.get(given[0])!.value);
        else if (fields[key].required) throw new UserError(`missing field "${shown(key)}"`, file, line);
      }
      return { values, line };
    });
  }
  const unsupported = evaluationExtensionProblem(file, what);
  if (unsupported !== undefined) throw new UserError(unsupported, file);
  const rows = readDelimitedRows(content, file, extension === '.tsv' ? '\t' : ',');
  if (rows.length === 0) return [];
  const header = rows[0].cells.map(normalise);
  const twice = header.find((name, i) => known.has(name) && header.indexOf(name) !== i);
  if (twice !== undefined) throw new UserError(`the header names the "${twice}" column twice`, file, rows[0].line);
  const columns = new Map<K, number>();
  for (const key of keys) {
    const given = fields[key].names.filter((name) => header.includes(name));
    if (given.length > 1) throw new UserError(`the header has both "${given[0]}" and "${given[1]}" columns; keep one`, file, rows[0].line);
    if (given.length === 1) columns.set(key, header.indexOf(given[0]));
    else if (fields[key].required) {
      throw new UserError(
        `expected a header row naming the columns ${keys.filter((k) => fields[k].required).map(shown).join(', ')} (no "${shown(key)}" column)`,
        file,
        rows[0].line,
      );
    }
  }
  return rows.slice(1).map(({ cells, line }) => {
    const values = new Map<K, unknown>();
    for (const [key, column] of columns) {
      const cell = cells[column];
      if (cell === undefined && fields[key].required) throw new UserError(`missing the "${shown(key)}" column`, file, line);
      if (cell !== undefined) values.set(key, cell);
    }
    return { values, line };
  });
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A score: a JSON number or a decimal number written as text; finite. */
function scoreValue(value: unknown, field: string, file: string, line: number): number {
  const score = typeof value === 'number' ? value : typeof value === 'string' && NUMBER.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isFinite(score)) {
    const shown = typeof value === 'string' ? `"${value}"` : JSON.stringify(value) ?? String(value);
    throw new UserError(`"${field}" must be a finite number (got ${shown})`, file, line);
  }
  return score;
}

function textValue(value: unknown, field: string, file: string, line: number): string {
  if (typeof value !== 'string') throw new UserError(`"${field}" must be a string`, file, line);
  return value.trim();
}

export function parsePairs(content: string, file: string): PairRecord[] {
  const pairs = readRecords(content, file, PAIR_FIELDS, 'pairs').map(({ values, line }) => ({
    id1: nameValue(values.get('id1'), 'id1', file, line),
    id2: nameValue(values.get('id2'), 'id2', file, line),
    score: scoreValue(values.get('score'), 'score', file, line),
    line,
  }));
  if (pairs.length === 0) throw new UserError('no pairs found (expected id1, id2, score)', file);
  return pairs;
}

export function parseQrels(content: string, file: string): QrelRecord[] {
  const qrels = readRecords(content, file, QREL_FIELDS, 'qrels').map(({ values, line }) => ({
    queryId: nameValue(values.get('queryId'), 'query_id', file, line),
    docId: nameValue(values.get('docId'), 'doc_id', file, line),
    score: scoreValue(values.get('score'), 'score', file, line),
    line,
  }));
  if (qrels.length === 0) throw new UserError('no qrels found (expected query_id, doc_id, score)', file);
  const lineOf = new Map<string, Map<string, number>>();
  for (const qrel of qrels) {
    let docs = lineOf.get(qrel.queryId);
    if (!docs) lineOf.set(qrel.queryId, (docs = new Map()));
    const previous = docs.get(qrel.docId);
    if (previous !== undefined) {
      throw new UserError(`query "${qrel.queryId}" and document "${qrel.docId}" are listed twice (also on line ${previous})`, file, qrel.line);
    }
    docs.set(qrel.docId, qrel.line);
  }
  return qrels;
}

export function parseCorpus(content: string, file: string): CorpusFile {
  const corpus: CorpusFile = { ids: [], texts: [], lines: [] };
  const lineOf = new Map<string, number>();
  for (const { values, line } of readRecords(content, file, CORPUS_FIELDS, 'corpus')) {
    const id = nameValue(values.get('id'), 'id', file, line);
    const previous = lineOf.get(id);
    if (previous !== undefined) throw new UserError(`document id "${id}" repeats (first on line ${previous})`, file, line);
    lineOf.set(id, line);
    const text = textValue(values.get('text'), 'text', file, line);
    const title = values.has('title') && values.get('title') !== null ? textValue(values.get('title'), 'title', file, line) : '';
    const embedded = title === '' ? text : text === '' ? title : `${title} ${text}`;
    if (embedded === '') throw new UserError(`document "${id}" is empty (no text and no title)`, file, line);
    corpus.ids.push(id);
    corpus.texts.push(embedded);
    corpus.lines.push(line);
  }
  if (corpus.ids.length === 0) throw new UserError('the corpus is empty (expected documents with id and text)', file);
  return corpus;
}

export const readPairs = async (file: string): Promise<PairRecord[]> => parsePairs(await readUtf8File(file), file);
export const readQrels = async (file: string): Promise<QrelRecord[]> => parseQrels(await readUtf8File(file), file);
export const readCorpus = async (file: string): Promise<CorpusFile> => parseCorpus(await readUtf8File(file), file);

// ---------------------------------------------------------------------------------------------------------------
// Writing (the bundle's pairs.tsv and qrels.tsv): what the readers above read back exactly.

/** A TSV cell: quoted (with doubled quotes) when it holds a tab or a quote. */
function tsvCell(value: string): string {
  return /[\t"]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function tsv(header: string[], rows: string[][]): string {
  return [header, ...rows].map((cells) => cells.map(tsvCell).join('\t') + '\n').join('');
}

export function formatPairsTsv(pairs: readonly { id1: string; id2: string; score: number }[]): string {
  return tsv(['id1', 'id2', 'score'], pairs.map((p) => [p.id1, p.id2, String(p.score)]));
}

export function formatQrelsTsv(qrels: readonly { queryId: string; docId: string; score: number }[]): string {
  return tsv(['query_id', 'doc_id', 'score'], qrels.map((q) => [q.queryId, q.docId, String(q.score)]));
}

// ---------------------------------------------------------------------------------------------------------------
// Resolution against the query rows and the corpus

/** Row of each query id; `queryIds` are unique (the query file reader checks it). */
export function rowsById(ids: readonly string[]): Map<string, number> {
  return new Map(ids.map((id, row) => [id, row]));
}

function unknownId(kind: 'query' | 'document', id: string, file: string, line: number, where: string): never {
  throw new UserError(`unknown ${kind} id "${id}" (not an id in ${where})`, file, line);
}

export function resolvePairs(
  pairs: readonly PairRecord[],
  file: string,
  rowOf: ReadonlyMap<string, number>,
  queriesFile: string,
): NonNullable<EvaluationData['pairs']> {
  const resolved = { a: new Int32Array(pairs.length), b: new Int32Array(pairs.length), score: new Float64Array(pairs.length) };
  pairs.forEach((pair, p) => {
    resolved.a[p] = rowOf.get(pair.id1) ?? unknownId('query', pair.id1, file, pair.line, queriesFile);
    resolved.b[p] = rowOf.get(pair.id2) ?? unknownId('query', pair.id2, file, pair.line, queriesFile);
    resolved.score[p] = pair.score;
  });
  return resolved;
}

export function resolveQrels(
  qrels: readonly QrelRecord[],
  file: string,
  rowOf: ReadonlyMap<string, number>,
  queriesFile: string,
  docOf: ReadonlyMap<string, number>,
  corpusFile: string,
): NonNullable<EvaluationData['qrels']> {
  const resolved = { query: new Int32Array(qrels.length), doc: new Int32Array(qrels.length), score: new Float64Array(qrels.length) };
  qrels.forEach((qrel, i) => {
    resolved.query[i] = rowOf.get(qrel.queryId) ?? unknownId('query', qrel.queryId, file, qrel.line, queriesFile);
    resolved.doc[i] = docOf.get(qrel.docId) ?? unknownId('document', qrel.docId, file, qrel.line, corpusFile);
    resolved.score[i] = qrel.score;
  });
  return resolved;
}

/** The home kind of each task: its `kind:`, else the paper's name's kind (DEFAULT_TASK_KINDS), else none; Base none. */
export function homeKindsOf(tasks: readonly { name: string; kind?: EvalKind }[]): (EvalKind | null)[] {
  return tasks.map((task) => {
    if (task.name === BASE_TASK) return null;
    return task.kind ?? DEFAULT_TASK_KINDS.find(([name]) => name === task.name)?.[1] ?? null;
  });
}

/** Where the evaluation files are (paths as given, or resolved against the instruction set's folder). */
export interface EvaluationSources {
  pairs?: string;
  corpus?: string;
  qrels?: string;
}

export interface ResolvedEvaluation {
  /** Undefined when there is nothing to evaluate (no labels, pairs or corpus). */
  evaluation?: EvaluationData;
  /** The corpus documents as embedded (title + " " + text), in `evaluation.corpusIds` order. */
  documents?: string[];
}

/**
 * Classification needs two queries of every label (a fold must be able to hold one out) and two labels: checked
 * before any embedding, naming the line of a label's only query.
 */
function checkLabels(queriesFile: string, labels: readonly string[], lines: readonly number[]): void {
  const rows = new Map<string, number[]>();
  labels.forEach((label, row) => {
    const list = rows.get(label);
    if (list) list.push(row);
    else rows.set(label, [row]);
  });
  const lonely = [...rows].filter(([, list]) => list.length < 2);
  if (lonely.length > 0) {
    const [label, [row]] = lonely[0];
    const more = lonely.length > 1 ? ` (and ${lonely.length - 1} more: ${lonely.slice(1, 4).map(([name]) => JSON.stringify(name)).join(', ')})` : '';
    throw new UserError(
      `label ${JSON.stringify(label)} has only this query; classification needs at least 2 queries per label${more}`,
      queriesFile,
      lines[row],
    );
  }
  if (rows.size < 2) throw new UserError(`every query has the label ${JSON.stringify(labels[0])}: classification and clustering need at least 2 labels`, queriesFile);
}

/**
 * Reads the evaluation files and checks every id. `query` is the query file as read (ids and labels when given;
 * `lines` gives the default ids, the 1-based line numbers).
 */
export async function resolveEvaluation(
  queriesFile: string,
  query: { ids?: string[]; labels?: string[]; lines: number[] },
  sources: EvaluationSources,
  tasks: readonly TaskSpec[],
): Promise<ResolvedEvaluation> {
  if ((sources.corpus === undefined) !== (sources.qrels === undefined)) {
    const [given, missing] = sources.corpus !== undefined ? ['corpus', 'qrels'] : ['qrels', 'corpus'];
    throw new UserError(`a ${given} file is given without a ${missing} file: retrieval and reranking need both`, sources.corpus ?? sources.qrels);
  }
  if (!query.labels && sources.pairs === undefined && sources.corpus === undefined) return {};
  const queryIds = query.ids ?? query.lines.map(String);
  const evaluation: EvaluationData = { queryIds, homeKinds: homeKindsOf(tasks) };
  if (query.labels) {
    checkLabels(queriesFile, query.labels, query.lines);
    evaluation.labels = query.labels;
  }
  const rowOf = rowsById(queryIds);
  const result: ResolvedEvaluation = { evaluation };
  if (sources.pairs !== undefined) evaluation.pairs = resolvePairs(await readPairs(sources.pairs), sources.pairs, rowOf, queriesFile);
  if (sources.corpus !== undefined && sources.qrels !== undefined) {
    const corpus = await readCorpus(sources.corpus);
    const qrels = await readQrels(sources.qrels);
    evaluation.corpusIds = corpus.ids;
    evaluation.qrels = resolveQrels(qrels, sources.qrels, rowOf, queriesFile, rowsById(corpus.ids), sources.corpus);
    result.documents = corpus.texts;
  }
  return result;
}
