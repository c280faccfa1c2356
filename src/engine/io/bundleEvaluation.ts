/**
 * The evaluation data of an embedding bundle's folder form (docs/EVAL.md "Data"), beside the embeddings:
 *
 *   <bundle>/queries.jsonl     instead of queries.txt: one {"id", "label"?, "text"} per query, row order
 *   <bundle>/pairs.tsv         STS pairs: header id1, id2, score (query ids)
 *   <bundle>/qrels.tsv         header query_id, doc_id, score (BEIR's query-id, corpus-id also read)
 *   <bundle>/corpus_ids.txt    one document id a line, the row order of every <model>/Corpus.npy
 *   <bundle>/<model>/Corpus.npy  the documents' embeddings (documents x d)
 *   <bundle>/kinds.json        {task: kind} for the tasks that have a home kind
 *
 * Every file is optional and read with the same readers as the user's files (src/inputs/evaluationFiles.ts), so a
 * bundle made elsewhere (Python) is checked like a run's inputs: unknown ids and bad scores name the bundle file and
 * line. Without kinds.json the paper's task names get their kinds (DEFAULT_TASK_KINDS). The JSON Lines form of a
 * bundle carries no evaluation data (it holds vectors only): use the folder form to evaluate vectors made elsewhere.
 */
import * as fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import { CORPUS_TASK, EVAL_KINDS, type EvalKind, type EvaluationData, isCorpusTask } from '../evaluation/types';
import { sharedCopyOf } from '../kernels/shared';
import { BASE_TASK, type EmbeddingBundle } from '../types';
import { encodeNpyFloat32, parseNpy } from './npy';
import {
  formatPairsTsv,
  formatQrelsTsv,
  homeKindsOf,
  parsePairs,
  parseQrels,
  resolvePairs,
  resolveQrels,
  rowsById,
} from '../../inputs/evaluationFiles';
import { isRecord, nameValue, ownField, readJsonLines } from '../../inputs/records';
import { decodeUtf8 } from './textFile';

const QUERIES_JSONL_FILE = 'queries.jsonl';
const PAIRS_FILE = 'pairs.tsv';
const QRELS_FILE = 'qrels.tsv';
const CORPUS_IDS_FILE = 'corpus_ids.txt';
const KINDS_FILE = 'kinds.json';
const CORPUS_NPY = `${CORPUS_TASK}.npy`;

/** The top-level files this module writes (an existing bundle holding only bundle files may be replaced). */
export const EVALUATION_BUNDLE_FILES = [QUERIES_JSONL_FILE, PAIRS_FILE, QRELS_FILE, CORPUS_IDS_FILE, KINDS_FILE];

/**
 * Whether the bundle at `bundlePath` has any evaluation file, so that its analysis may score task performance (a
 * .jsonl bundle has none). A cheap look before reading: the analysis workers' warm-up then knows what to compile.
 */
export function mayHaveEvaluation(bundlePath: string): boolean {
  return EVALUATION_BUNDLE_FILES.some((name) => existsSync(path.join(bundlePath, name)));
}

/** The corpus as readBundle returns it after writeBundle: float32-rounded, like the query embeddings. */
export function corpusAsStored(corpus: Float64Array[] | undefined): Float64Array[] | undefined {
  return corpus?.map((matrix) => sharedCopyOf(new Float32Array(matrix)));
}

/** Programming errors in the shape of a bundle's evaluation data (checked before anything is written). */
export function checkEvaluationShape(bundle: EmbeddingBundle): void {
  const evaluation = bundle.evaluation;
  if (bundle.tasks.some(isCorpusTask)) throw new UserError(`'${CORPUS_TASK}' is a reserved name (the corpus documents' embeddings), not a task`);
  if (!evaluation) {
    if (bundle.corpus) throw new Error('writeBundle: corpus embeddings without evaluation data');
    return;
  }
  const { n } = bundle;
  if (evaluation.queryIds.length !== n) throw new Error(`writeBundle: ${evaluation.queryIds.length} query ids for ${n} rows`);
  if (evaluation.labels && evaluation.labels.length !== n) throw new Error(`writeBundle: ${evaluation.labels.length} labels for ${n} rows`);
  if (evaluation.homeKinds.length !== bundle.tasks.length) throw new Error('writeBundle: homeKinds and tasks differ in length');
  const inRange = (values: Int32Array, size: number): boolean => values.every((v) => v >= 0 && v < size);
  if (evaluation.pairs && !(inRange(evaluation.pairs.a, n) && inRange(evaluation.pairs.b, n))) throw new Error('writeBundle: a pair row is out of range');
  const documents = evaluation.corpusIds?.length;
  if ((documents === undefined) !== (evaluation.qrels === undefined) || (documents === undefined) !== (bundle.corpus === undefined)) {
    throw new Error('writeBundle: corpusIds, qrels and corpus go together');
  }
  if (documents !== undefined && evaluation.qrels && bundle.corpus) {
    if (!inRange(evaluation.qrels.query, n) || !inRange(evaluation.qrels.doc, documents)) throw new Error('writeBundle: a qrel is out of range');
    bundle.corpus.forEach((matrix, m) => {
      if (matrix.length !== documents * bundle.dims[m]) throw new Error(`writeBundle: corpus of ${bundle.models[m]} is not ${documents} x ${bundle.dims[m]}`);
    });
  }
}

/**
 * Writes the evaluation files into the bundle folder being built (`dir`), the corpus into each model's folder.
 * `queryLines` are the queries as stored (one line each); nothing is written when the bundle has no evaluation data.
 */
export async function writeEvaluationFiles(
  dir: string,
  bundle: EmbeddingBundle,
  modelFolders: string[],
  queryLines: string[] | undefined,
): Promise<void> {
  const evaluation = bundle.evaluation;
  if (!evaluation) return;
  const { queryIds, labels, pairs, corpusIds, qrels } = evaluation;
  const records = queryIds.map((id, row) => {
    const record: { id: string; label?: string; text?: string } = { id };
    if (labels) record.label = labels[row];
    if (queryLines) record.text = queryLines[row];
    return JSON.stringify(record) + '\n';
  });
  await fs.writeFile(path.join(dir, QUERIES_JSONL_FILE), records.join(''));
  if (pairs) {
    const rows = [...pairs.score].map((score, p) => ({ id1: queryIds[pairs.a[p]], id2: queryIds[pairs.b[p]], score }));
    await fs.writeFile(path.join(dir, PAIRS_FILE), formatPairsTsv(rows));
  }
  if (corpusIds && qrels && bundle.corpus) {
    await fs.writeFile(path.join(dir, CORPUS_IDS_FILE), corpusIds.map((id) => id + '\n').join(''));
    const rows = [...qrels.score].map((score, i) => ({ queryId: queryIds[qrels.query[i]], docId: corpusIds[qrels.doc[i]], score }));
    await fs.writeFile(path.join(dir, QRELS_FILE), formatQrelsTsv(rows));
    for (let m = 0; m < bundle.models.length; m++) {
      const npy = encodeNpyFloat32(corpusIds.length, bundle.dims[m], new Float32Array(bundle.corpus[m]));
      await fs.writeFile(path.join(dir, modelFolders[m], CORPUS_NPY), npy);
    }
  }
  const kinds: [string, EvalKind][] = [];
  evaluation.homeKinds.forEach((kind, t) => {
    if (kind !== null) kinds.push([bundle.tasks[t], kind]);
  });
  // Written in task order; JSON.stringify of an object would move integer-like names ("2") first.
  const body = kinds.map(([task, kind]) => `  ${JSON.stringify(task)}: ${JSON.stringify(kind)}`).join(',\n');
  await fs.writeFile(path.join(dir, KINDS_FILE), kinds.length === 0 ? '{}\n' : `{\n${body}\n}\n`);
}

/**
 * Reads the evaluation files of a bundle folder into `bundle` (whose models, tasks, n and dims are read already):
 * queries and ids from queries.jsonl, labels, pairs, qrels, the corpus and the home kinds. `hadQueriesTxt` says
 * whether queries.txt was there too (an error: one list of queries).
 */
export async function readEvaluationFiles(dir: string, bundle: EmbeddingBundle, modelFolders: string[], hadQueriesTxt: boolean): Promise<void> {
  const queriesFile = path.join(dir, QUERIES_JSONL_FILE);
  const queryRecords = await readOptional(queriesFile);
  if (queryRecords !== undefined && hadQueriesTxt) {
    throw new UserError(`both queries.txt and ${QUERIES_JSONL_FILE} are here; keep one`, dir);
  }
  const queries = queryRecords === undefined ? undefined : parseBundleQueries(queryRecords, queriesFile, bundle.n);
  if (queries?.texts) bundle.queries = queries.texts;

  const pairsFile = path.join(dir, PAIRS_FILE);
  const qrelsFile = path.join(dir, QRELS_FILE);
  const idsFile = path.join(dir, CORPUS_IDS_FILE);
  const [pairsText, qrelsText, idsText] = await Promise.all([readOptional(pairsFile), readOptional(qrelsFile), readOptional(idsFile)]);
  const corpusFiles = await Promise.all(modelFolders.map((folder) => readOptionalBytes(path.join(dir, folder, CORPUS_NPY))));
  if (idsText === undefined) {
    const stray = corpusFiles.findIndex((bytes) => bytes !== undefined);
    if (stray >= 0) throw new UserError(`${CORPUS_NPY} needs ${CORPUS_IDS_FILE} beside the model folders (one document id a line)`, path.join(dir, modelFolders[stray], CORPUS_NPY));
  }
  if ((qrelsText === undefined) !== (idsText === undefined)) {
    const [given, missing] = qrelsText !== undefined ? [qrelsFile, CORPUS_IDS_FILE] : [idsFile, QRELS_FILE];
    throw new UserError(`retrieval needs both ${QRELS_FILE} and ${CORPUS_IDS_FILE} (and <model>/${CORPUS_NPY}): ${missing} is missing`, given);
  }
  if (!queries?.labels && pairsText === undefined && idsText === undefined) return;

  const queryIds = queries?.ids ?? Array.from({ length: bundle.n }, (_, row) => String(row + 1));
  const queriesWhere = queryRecords === undefined ? `${dir} (no ${QUERIES_JSONL_FILE}: ids are the row numbers 1..${bundle.n})` : queriesFile;
  const rowOf = rowsById(queryIds);
  const evaluation: EvaluationData = { queryIds, homeKinds: await readKinds(path.join(dir, KINDS_FILE), bundle.tasks) };
  if (queries?.labels) evaluation.labels = queries.labels;
  if (pairsText !== undefined) evaluation.pairs = resolvePairs(parsePairs(pairsText, pairsFile), pairsFile, rowOf, queriesWhere);
  if (idsText !== undefined && qrelsText !== undefined) {
    const corpusIds = parseCorpusIds(idsText, idsFile);
    evaluation.corpusIds = corpusIds;
    evaluation.qrels = resolveQrels(parseQrels(qrelsText, qrelsFile), qrelsFile, rowOf, queriesWhere, rowsById(corpusIds), idsFile);
    bundle.corpus = corpusFiles.map((bytes, m) => {
      const file = path.join(dir, modelFolders[m], CORPUS_NPY);
      if (bytes === undefined) throw new UserError(`${CORPUS_NPY} is missing: ${CORPUS_IDS_FILE} lists documents, so every model needs their embeddings`, path.dirname(file));
      const matrix = parseNpy(bytes, file);
      if (matrix.rows !== corpusIds.length) {
        throw new UserError(`array has ${matrix.rows} rows but ${CORPUS_IDS_FILE} lists ${corpusIds.length} documents (one row per document, same order)`, file);
      }
      if (matrix.cols !== bundle.dims[m]) {
        throw new UserError(`array has ${matrix.cols} columns but the model's query embeddings have ${bundle.dims[m]}`, file);
      }
      // The ranking reads the documents in float64 (Gemm operands): widened once here, in shared memory.
      return matrix.data instanceof Float64Array ? matrix.data : sharedCopyOf(matrix.data);
    });
  }
  bundle.evaluation = evaluation;
}

interface BundleQueries {
  ids?: string[];
  labels?: string[];
  texts?: string[];
}

/** queries.jsonl: one object per row with optional id, label and text; each given for every row or none. */
function parseBundleQueries(content: string, file: string, n: number): BundleQueries {
  const lines = readJsonLines(content, file);
  if (lines.length !== n) throw new UserError(`has ${lines.length} queries but the embeddings have ${n} rows (one query per line, same order)`, file);
  const fields = ['id', 'label', 'text'] as const;
  const columns = fields.map(() => [] as (string | undefined)[]);
  const firstLineOf = new Map<string, number>();
  for (const { value, line } of lines) {
    if (!isRecord(value)) throw new UserError('expected a JSON object {"id", "label", "text"}', file, line);
    fields.forEach((field, f) => {
      const given = ownField(value, field);
      if (given === undefined) return void columns[f].push(undefined);
      if (field !== 'text') return void columns[f].push(nameValue(given, field, file, line));
      if (typeof given !== 'string') throw new UserError('"text" must be a string', file, line);
      columns[f].push(given);
    });
    const id = columns[0][columns[0].length - 1];
    if (id !== undefined) {
      const previous = firstLineOf.get(id);
      if (previous !== undefined) throw new UserError(`duplicate id "${id}" (first on line ${previous})`, file, line);
      firstLineOf.set(id, line);
    }
  }
  const result: BundleQueries = {};
  fields.forEach((field, f) => {
    const missing = columns[f].findIndex((v) => v === undefined);
    if (missing < 0) result[field === 'id' ? 'ids' : field === 'label' ? 'labels' : 'texts'] = columns[f] as string[];
    else if (columns[f].some((v) => v !== undefined)) {
      throw new UserError(`this query has no "${field}" while others have one: give every query one, or none`, file, lines[missing].line);
    }
  });
  return result;
}

/** corpus_ids.txt: one id a line (trimmed), unique, none empty. */
function parseCorpusIds(content: string, file: string): string[] {
  const ids: string[] = [];
  const lineOf = new Map<string, number>();
  const lines = content.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const id = raw.trim();
    if (id === '') throw new UserError('empty document id (one id a line, no blank lines)', file, i + 1);
    const previous = lineOf.get(id);
    if (previous !== undefined) throw new UserError(`document id "${id}" repeats (first on line ${previous})`, file, i + 1);
    lineOf.set(id, i + 1);
    ids.push(id);
  });
  if (ids.length === 0) throw new UserError('the corpus is empty (no document ids)', file);
  return ids;
}

/**
 * kinds.json: {task: kind} for every task that has a home kind (the tasks it leaves out have none); without the file,
 * the paper's task names get their kinds. Base never has one.
 */
async function readKinds(file: string, tasks: string[]): Promise<(EvalKind | null)[]> {
  const text = await readOptional(file);
  if (text === undefined) return homeKindsOf(tasks.map((name) => ({ name })));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UserError(`invalid JSON (${(error as Error).message})`, file);
  }
  if (!isRecord(value)) throw new UserError('expected a JSON object {"task": "kind", ...}', file);
  const known = new Set(tasks);
  for (const task of Object.keys(value)) {
    if (!known.has(task) || task === BASE_TASK) throw new UserError(`task '${task}' is not one of the bundle's tasks (${tasks.filter((t) => t !== BASE_TASK).join(', ')})`, file);
    const kind = ownField(value, task);
    if (typeof kind !== 'string' || !(EVAL_KINDS as readonly string[]).includes(kind)) {
      throw new UserError(`the kind of task '${task}' must be one of ${EVAL_KINDS.join(', ')}`, file);
    }
  }
  return tasks.map((task) => (task === BASE_TASK ? null : ((ownField(value as Record<string, unknown>, task) as EvalKind | undefined) ?? null)));
}

async function readOptionalBytes(file: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new UserError(`cannot read the file (${code ?? (error as Error).message})`, file);
  }
}

async function readOptional(file: string): Promise<string | undefined> {
  const bytes = await readOptionalBytes(file);
  return bytes === undefined ? undefined : decodeUtf8(bytes, file);
}
