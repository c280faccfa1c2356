/**
 * Embedding bundles: the exchange format between embedding (ours or anyone's Python) and analysis.
 *
 * Folder form:  <bundle>/<model>/<task>.npy   (N x d, float32 or float64, little-endian, C order)
 *               <bundle>/queries.txt          optional, one query per line, row order
 *               <bundle>/models.txt           optional, model order (one per line); default code-point order
 *               <bundle>/tasks.txt            optional, task order (one per line); default Base, then code-point order
 *               <bundle>/instructions.json    optional, {task: instruction text}
 *               evaluation data (queries.jsonl, pairs.tsv, qrels.tsv, corpus_ids.txt, <model>/Corpus.npy,
 *               kinds.json): optional, see bundleEvaluation.ts
 *               <bundle>/diagnostics.json     optional, query lines, failed models, unknown tokens (bundleDiagnostics.ts)
 * JSON Lines:   one {"model", "task", "index", "vector"} object per line; models and tasks in order of first
 *               appearance, Base moved first. No evaluation data; the task name Corpus is reserved.
 *
 * Model and task names become folder and file names. Characters that cannot (or should not) appear there are
 * percent-encoded on write ("Qwen/Qwen3-Embedding-0.6B" -> "Qwen%2FQwen3-Embedding-0.6B") and decoded on read.
 */
import { createReadStream, type Dirent, type ReadStream } from 'node:fs';
import { forceHint } from './forceHint';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { tempSiblingPath } from './atomicWrite';
import { DIAGNOSTICS_FILE, diagnosticsJson, parseDiagnostics } from './bundleDiagnostics';
import { UserError } from '../errors';
import { encodeNpyFloat32, parseNpy } from './npy';
import { checkRegularFile, fileSystemError, MAX_ARRAY_FILE_BYTES, readRegularFile } from './regularFile';
import { readUtf8File } from './textFile';
import { sharedFloat32CopyOf, sharedFloat64 } from '../kernels/shared';
import { ownValue, recordOf } from '../records';
import { BASE_TASK, type EmbeddingBundle, type EmbeddingMatrix } from '../types';
import { CORPUS_TASK, isCorpusTask } from '../evaluation/types';
import { checkEvaluationShape, corpusAsStored, EVALUATION_BUNDLE_FILES, readEvaluationFiles, writeEvaluationFiles } from './bundleEvaluation';

const MIN_QUERIES = 3;
const QUERIES_FILE = 'queries.txt';
const MODELS_FILE = 'models.txt';
const TASKS_FILE = 'tasks.txt';
const INSTRUCTIONS_FILE = 'instructions.json';
/** Rows (queries) a JSON Lines bundle may index: 2^24, far beyond what fits in memory at d = 1024. */
const MAX_JSONL_ROWS = 2 ** 24;
/**
 * Embedding values must fit in float32, the precision models produce and bundles are written in; larger values
 * (1e300 in a float64 .npy) would overflow the sums of squares of the analysis.
 */
const FLOAT32_RANGE = 'the value overflows: embedding values must fit in float32 (magnitude below 3.4e38)';

function fitsFloat32(value: number): boolean {
  return Number.isFinite(Math.fround(value));
}

/** One model of a folder bundle, as soon as its files are read (readBundle's `onModel`). */
export interface ReadModel {
  name: string;
  tasks: readonly string[];
  n: number;
  dim: number;
  /** Its task matrices in task order, in shared memory. */
  matrices: readonly EmbeddingMatrix[];
}

/**
 * Reads a bundle folder or a .jsonl file, validating everything (UserError naming file, line/array, problem).
 * `onModel` is called for each model of a folder bundle once its task files are read and checked, before the next
 * model's (the CLI starts its PCA there); a later file can still make the whole read fail.
 */
export async function readBundle(bundlePath: string, onModel?: (model: ReadModel) => void): Promise<EmbeddingBundle> {
  let stat;
  try {
    stat = await fs.stat(bundlePath);
  } catch (error) {
    throw fileError(error, bundlePath);
  }
  if (stat.isDirectory()) return readFolderBundle(bundlePath, onModel);
  if (/\.(jsonl|ndjson)$/i.test(bundlePath)) {
    const bundle = await readJsonlBundle(bundlePath);
    const corpus = bundle.tasks.find(isCorpusTask);
    if (corpus !== undefined) {
      throw new UserError(`task '${corpus}': ${CORPUS_TASK} is reserved for corpus documents, which a JSON Lines bundle cannot hold (use the folder form)`, bundlePath);
    }
    return bundle;
  }
  throw new UserError(
    'not an embedding bundle: expected a folder <bundle>/<model>/<task>.npy or a JSON Lines file ending in .jsonl',
    bundlePath,
  );
}

/**
 * The bundle exactly as readBundle returns it after writeBundle: every value rounded to float32 (the stored
 * precision) and line breaks inside queries replaced by spaces (one query per line in queries.txt).
 * Analyse this, not the original, when the bundle is also written (the `run` command), so that `analyze` on the
 * written bundle later gives results identical to the ones reported now.
 */
export function bundleAsStored(bundle: EmbeddingBundle): EmbeddingBundle {
  const stored: EmbeddingBundle = {
    ...bundle,
    embeddings: bundle.embeddings.map((byTask) => byTask.map((matrix) => sharedFloat32CopyOf(matrix))),
  };
  if (bundle.queries) stored.queries = bundle.queries.map(queryLine);
  if (bundle.corpus) stored.corpus = corpusAsStored(bundle.corpus);
  return stored;
}

/** A query as one line of queries.txt: a line break inside a query (possible from CSV input) becomes a space. */
function queryLine(query: string): string {
  return query.replace(/\r\n|\r|\n/g, ' ');
}

export interface WriteBundleOptions {
  /**
   * Replace an existing non-empty folder. Only a folder that holds nothing but bundle files (model sub-folders
   * of .npy files, queries.txt, models.txt, tasks.txt, instructions.json) is replaced; anything else is refused.
   */
  overwrite?: boolean;
}

/**
 * Writes the folder form. Matrices are stored as float32: that is the precision embedding models produce, and it
 * halves the size. Reading the bundle back therefore gives float32-rounded values: see bundleAsStored.
 * The folder appears complete or not at all: it is built under a temporary sibling name and renamed into place.
 */
export async function writeBundle(dir: string, bundle: EmbeddingBundle, options: WriteBundleOptions = {}): Promise<void> {
  checkBundleShape(bundle);
  checkEvaluationShape(bundle);
  const modelFolders = uniqueFileNames(bundle.models, 'model');
  const taskFiles = uniqueFileNames(bundle.tasks, 'task');
  // Checked before anything is written; the float32 copies are made one file at a time (paper scale: ~200 MB).
  bundle.models.forEach((model, m) =>
    bundle.tasks.forEach((task, t) => {
      const matrix = bundle.embeddings[m][t];
      const bad = firstNonFinite(matrix);
      if (bad >= 0) {
        const row = Math.floor(bad / bundle.dims[m]);
        const query = bundle.queries?.[row];
        throw new UserError(
          `model '${model}', task '${task}': value ${matrix[bad]} in the embedding of query ${bundle.queryLines?.[row] ?? row + 1}` +
            `${query === undefined ? '' : ` "${query}"`} (dimension ${bad - row * bundle.dims[m] + 1}) does not fit in float32`,
        );
      }
    }),
  );

  await fs.mkdir(path.dirname(path.resolve(dir)), { recursive: true });
  const existing = await checkBundleTarget(dir, options);

  const temp = tempSiblingPath(dir);
  try {
    await fs.mkdir(temp);
    for (let m = 0; m < bundle.models.length; m++) {
      const modelDir = path.join(temp, modelFolders[m]);
      await fs.mkdir(modelDir);
      for (let t = 0; t < bundle.tasks.length; t++) {
        const npy = encodeNpyFloat32(bundle.n, bundle.dims[m], new Float32Array(bundle.embeddings[m][t]));
        await fs.writeFile(path.join(modelDir, `${taskFiles[t]}.npy`), npy);
      }
    }
    // With evaluation data the queries go to queries.jsonl, beside their ids and labels.
    if (bundle.queries && !bundle.evaluation) {
      await fs.writeFile(path.join(temp, QUERIES_FILE), bundle.queries.map((q) => queryLine(q) + '\n').join(''));
    }
    await writeEvaluationFiles(temp, bundle, modelFolders, bundle.queries?.map(queryLine));
    // The order files make the bundle read back with models and tasks in the order they were written.
    await fs.writeFile(path.join(temp, MODELS_FILE), bundle.models.map((m) => m + '\n').join(''));
    await fs.writeFile(path.join(temp, TASKS_FILE), bundle.tasks.map((t) => t + '\n').join(''));
    if (bundle.instructions) {
      await fs.writeFile(path.join(temp, INSTRUCTIONS_FILE), JSON.stringify(recordOf(bundle.instructions), null, 2) + '\n');
    }
    const diagnostics = diagnosticsJson(bundle);
    if (diagnostics) await fs.writeFile(path.join(temp, DIAGNOSTICS_FILE), diagnostics);
    await moveIntoPlace(temp, dir, existing);
  } catch (error) {
    await fs.rm(temp, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Throws a UserError unless writeBundle(dir, ..., options) may write there: `dir` is missing or empty, or holds an
 * old bundle and `overwrite` is set. Returns the folder's entries (undefined when missing). Callers check it before
 * the embedding work too, so that a refusal never comes after it.
 */
export async function checkBundleTarget(dir: string, options: WriteBundleOptions = {}): Promise<string[] | undefined> {
  const existing = await listIfDirectory(dir);
  if (existing && existing.length > 0) {
    if (!options.overwrite) throw new UserError(`folder exists and is not empty; not overwriting it (${forceHint('an earlier bundle here')})`, dir);
    await checkOnlyBundleFiles(dir, existing);
  }
  return existing;
}

// ---------------------------------------------------------------------------------------------------------------
// Folder form

async function readFolderBundle(dir: string, onModel?: (model: ReadModel) => void): Promise<EmbeddingBundle> {
  const entries = await readDir(dir);
  const folders = await filterEntries(dir, entries, 'directory');
  if (folders.length === 0) {
    const looksLikeModel = entries.some((e) => e.name.endsWith('.npy'));
    throw new UserError(
      `bundle folder has no model sub-folders (expected <bundle>/<model>/<task>.npy)${looksLikeModel ? '; it holds .npy files itself: is it one model\'s folder? Pass the folder above it' : ''}`,
      dir,
    );
  }
  const folderOf = decodedNames(folders, 'model', dir);
  const models = await readOrder(path.join(dir, MODELS_FILE), [...folderOf.keys()], 'model', 'folder');
  const modelFolders = models.map((model) => folderOf.get(model) as string);

  // Task file names per model.
  const taskSets: Map<string, string>[] = []; // task name -> file name
  for (const folder of modelFolders) {
    const modelDir = path.join(dir, folder);
    const modelEntries = await readDir(modelDir);
    const files = (await filterEntries(modelDir, modelEntries, 'file')).filter((f) => f.endsWith('.npy'));
    await checkSpecialNpy(modelDir, modelEntries, files);
    if (files.length === 0) throw new UserError('model folder has no .npy files (expected <task>.npy)', modelDir);
    const tasks = decodedNames(files, 'task', modelDir);
    tasks.delete(CORPUS_TASK); // Corpus.npy: the documents (bundleEvaluation.ts)
    if (!tasks.has(BASE_TASK)) {
      throw new UserError(
        `${BASE_TASK}.npy is missing: every model needs the embeddings of the queries without instruction as ${BASE_TASK}.npy`,
        modelDir,
      );
    }
    taskSets.push(tasks);
  }
  for (let m = 0; m < models.length; m++) {
    for (let other = 0; other < models.length; other++) {
      for (const task of taskSets[other].keys()) {
        if (!taskSets[m].has(task)) {
          throw new UserError(
            `model '${models[m]}' lacks task '${task}' (${taskSets[other].get(task)} exists for model '${models[other]}'; all models need the same tasks)`,
            path.join(dir, modelFolders[m]),
          );
        }
      }
    }
  }
  const tasks = baseFirst(await readOrder(path.join(dir, TASKS_FILE), [...taskSets[0].keys()], 'task', '.npy file'));

  const embeddings: EmbeddingMatrix[][] = [];
  const dims: number[] = [];
  let n = -1;
  let nFile = '';
  const files = modelFolders.flatMap((folder, m) => tasks.map((task) => path.join(dir, folder, taskSets[m].get(task) as string)));
  const reads = aheadReader(files, READ_AHEAD);
  for (let m = 0; m < models.length; m++) {
    const row: EmbeddingMatrix[] = [];
    let dimFile = '';
    for (let t = 0; t < tasks.length; t++) {
      const file = files[m * tasks.length + t];
      const matrix = parseNpy(await reads(m * tasks.length + t), file);
      // A float64 file's values must fit the float32 a bundle stores (parseNpy has refused NaN and infinity in both).
      if (matrix.data instanceof Float64Array) checkFloat32Range(matrix.data, matrix.cols, file);
      if (n < 0) {
        n = matrix.rows;
        nFile = file;
        if (n < MIN_QUERIES) throw new UserError(`array has ${n} rows (queries); at least ${MIN_QUERIES} are needed`, file);
      } else if (matrix.rows !== n) {
        throw new UserError(`array has ${matrix.rows} rows but ${nFile} has ${n} (every array needs one row per query)`, file);
      }
      if (row.length === 0) {
        dims.push(matrix.cols);
        dimFile = file;
      } else if (matrix.cols !== dims[m]) {
        throw new UserError(
          `array has ${matrix.cols} columns but ${dimFile} has ${dims[m]} (all tasks of one model need the same dimension)`,
          file,
        );
      }
      row.push(matrix.data);
    }
    embeddings.push(row);
    onModel?.({ name: models[m], tasks, n, dim: dims[m], matrices: row });
  }

  const bundle: EmbeddingBundle = { models, tasks, n, dims, embeddings };
  const queries = await readQueries(path.join(dir, QUERIES_FILE), n);
  if (queries) bundle.queries = queries;
  await readEvaluationFiles(dir, bundle, modelFolders, queries !== undefined);
  const instructions = await readInstructions(path.join(dir, INSTRUCTIONS_FILE), tasks);
  if (instructions) bundle.instructions = instructions;
  const diagnosticsFile = path.join(dir, DIAGNOSTICS_FILE);
  const diagnostics = await readOptionalText(diagnosticsFile);
  if (diagnostics !== undefined) Object.assign(bundle, parseDiagnostics(diagnostics, diagnosticsFile, models, n));
  return bundle;
}

/**
 * The order of `names` given by an order file (one name per line; must list each name once), or code-point order
 * when there is no such file.
 */
async function readOrder(file: string, names: string[], kind: 'model' | 'task', thing: string): Promise<string[]> {
  const sorted = [...names].sort(compareCodePoints);
  const text = await readOptionalText(file);
  if (text === undefined) return sorted;
  const known = new Set(names);
  const seen = new Map<string, number>();
  splitLines(text).forEach((name, i) => {
    if (name.trim() === '') return;
    if (!known.has(name)) {
      throw new UserError(`${kind} '${name}' has no ${thing} (known ${kind}s: ${sorted.join(', ')})`, file, i + 1);
    }
    if (seen.has(name)) throw new UserError(`${kind} '${name}' is listed twice (also on line ${seen.get(name)})`, file, i + 1);
    seen.set(name, i + 1);
  });
  const missing = sorted.find((name) => !seen.has(name));
  if (missing !== undefined) throw new UserError(`${kind} '${missing}' has a ${thing} but is not listed`, file);
  return [...seen.keys()];
}

async function readQueries(file: string, n: number): Promise<string[] | undefined> {
  const text = await readOptionalText(file);
  if (text === undefined) return undefined;
  const lines = splitLines(text);
  if (lines.length !== n) {
    throw new UserError(`has ${lines.length} lines but the embeddings have ${n} rows (one query per line, same order)`, file);
  }
  return lines;
}

async function readInstructions(file: string, tasks: string[]): Promise<Map<string, string> | undefined> {
  const text = await readOptionalText(file);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UserError(`invalid JSON (${(error as Error).message})`, file);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UserError('expected a JSON object {"task": "instruction", ...}', file);
  }
  const instructions = new Map<string, string>();
  for (const task of tasks) {
    const text = ownValue(value as Record<string, unknown>, task);
    if (text === undefined) continue;
    if (typeof text !== 'string') throw new UserError(`instruction of task '${task}' is not a string`, file);
    instructions.set(task, text);
  }
  return instructions;
}

// ---------------------------------------------------------------------------------------------------------------
// JSON Lines form

interface JsonlMatrix {
  rows: (Float64Array | undefined)[];
  lineOfIndex: number[];
  firstLine: number;
}

async function readJsonlBundle(file: string): Promise<EmbeddingBundle> {
  const byModel = new Map<string, Map<string, JsonlMatrix>>();
  const dimOf = new Map<string, { dim: number; line: number; task: string }>();
  const taskOrder: string[] = [];

  let stream: ReadStream;
  try {
    await checkRegularFile(file, Number.POSITIVE_INFINITY); // streamed: no size limit, but never a FIFO or a device
    stream = createReadStream(file, { encoding: 'utf8' });
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
  } catch (error) {
    throw fileError(error, file);
  }
  let lineNumber = 0;
  for await (const rawLine of createInterface({ input: stream, crlfDelay: Infinity })) {
    lineNumber++;
    const line = lineNumber === 1 ? rawLine.replace(/^\uFEFF/, '') : rawLine;
    if (line.trim() === '') continue;
    const record = parseJsonlRecord(line, file, lineNumber);

    let tasks = byModel.get(record.model);
    if (!tasks) byModel.set(record.model, (tasks = new Map()));
    let matrix = tasks.get(record.task);
    if (!matrix) {
      tasks.set(record.task, (matrix = { rows: [], lineOfIndex: [], firstLine: lineNumber }));
      if (!taskOrder.includes(record.task)) taskOrder.push(record.task);
    }
    const modelDim = dimOf.get(record.model);
    if (!modelDim) {
      dimOf.set(record.model, { dim: record.vector.length, line: lineNumber, task: record.task });
    } else if (record.vector.length !== modelDim.dim) {
      const sameTask = matrix.firstLine !== lineNumber;
      const other = sameTask ? matrix.firstLine : modelDim.line;
      const problem = sameTask
        ? 'ragged rows'
        : `all tasks of one model need the same dimension; line ${modelDim.line} is task '${modelDim.task}'`;
      throw new UserError(
        `vector has ${record.vector.length} values but line ${other} (model '${record.model}') has ${modelDim.dim} (${problem})`,
        file,
        lineNumber,
      );
    }
    if (matrix.rows[record.index] !== undefined) {
      throw new UserError(
        `duplicate (model '${record.model}', task '${record.task}', index ${record.index}): already on line ${matrix.lineOfIndex[record.index]}`,
        file,
        lineNumber,
      );
    }
    matrix.rows[record.index] = record.vector;
    matrix.lineOfIndex[record.index] = lineNumber;
  }

  if (byModel.size === 0) throw new UserError('no embedding records (expected one JSON object per line)', file);
  const models = [...byModel.keys()];
  const tasks = baseFirst(taskOrder);
  for (const model of models) {
    const modelTasks = byModel.get(model) as Map<string, JsonlMatrix>;
    if (!modelTasks.has(BASE_TASK)) {
      throw new UserError(
        `model '${model}' has no '${BASE_TASK}' vectors: every model needs the queries embedded without instruction as task '${BASE_TASK}'`,
        file,
      );
    }
    for (const task of tasks) {
      if (!modelTasks.has(task)) {
        const owner = models.find((m) => byModel.get(m)?.has(task)) as string;
        const firstLine = byModel.get(owner)?.get(task)?.firstLine;
        throw new UserError(
          `model '${model}' lacks task '${task}' (model '${owner}' has it, first on line ${firstLine}; all models need the same tasks)`,
          file,
        );
      }
    }
  }

  let n = -1;
  let nFrom = '';
  const embeddings: Float64Array[][] = [];
  const dims: number[] = [];
  for (const model of models) {
    const dim = (dimOf.get(model) as { dim: number }).dim;
    dims.push(dim);
    const row: Float64Array[] = [];
    for (const task of tasks) {
      const matrix = byModel.get(model)?.get(task) as JsonlMatrix;
      const gap = findGap(matrix.rows);
      const where = `model '${model}', task '${task}'`;
      if (gap >= 0) {
        throw new UserError(
          `${where} (first on line ${matrix.firstLine}): index ${gap} is missing (indexes must run 0..${matrix.rows.length - 1} without gaps)`,
          file,
        );
      }
      if (n < 0) {
        n = matrix.rows.length;
        nFrom = where;
        if (n < MIN_QUERIES) {
          throw new UserError(`${where} has ${n} vectors (queries); at least ${MIN_QUERIES} are needed`, file);
        }
      } else if (matrix.rows.length !== n) {
        throw new UserError(
          `${where} has ${matrix.rows.length} vectors (highest index ${matrix.rows.length - 1} on line ${matrix.lineOfIndex[matrix.rows.length - 1]}) but ${nFrom} has ${n} (every model and task needs one vector per query)`,
          file,
        );
      }
      const data = sharedFloat64(n * dim);
      matrix.rows.forEach((vector, i) => data.set(vector as Float64Array, i * dim));
      row.push(data);
    }
    embeddings.push(row);
  }
  return { models, tasks, n, dims, embeddings };
}

function parseJsonlRecord(
  line: string,
  file: string,
  lineNumber: number,
): { model: string; task: string; index: number; vector: Float64Array } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    const nonFinite = findNonFiniteToken(line);
    if (nonFinite) {
      throw new UserError(`vector[${nonFinite.index}] is ${nonFinite.token}, which is neither valid JSON nor a valid embedding`, file, lineNumber);
    }
    throw new UserError(`invalid JSON (${(error as Error).message})`, file, lineNumber);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UserError('expected a JSON object {"model": ..., "task": ..., "index": ..., "vector": [...]}', file, lineNumber);
  }
  const { model, task, index, vector } = value as Record<string, unknown>;
  if (typeof model !== 'string' || model === '') throw new UserError('"model" must be a non-empty string', file, lineNumber);
  if (typeof task !== 'string' || task === '') throw new UserError('"task" must be a non-empty string', file, lineNumber);
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) {
    throw new UserError(`"index" must be a non-negative integer (got ${describeJsonValue(index)})`, file, lineNumber);
  }
  if (index >= MAX_JSONL_ROWS) {
    // Above 2^32 - 2 an index is no array index at all and the row would vanish silently; below it, a huge index
    // would make a hole of billions of rows.
    throw new UserError(`"index" ${index} is out of range: indexes run from 0 to the number of queries - 1 (at most ${MAX_JSONL_ROWS - 1})`, file, lineNumber);
  }
  if (!Array.isArray(vector)) throw new UserError('"vector" must be an array of numbers', file, lineNumber);
  if (vector.length === 0) throw new UserError('"vector" is empty', file, lineNumber);
  const values = new Float64Array(vector.length);
  for (let j = 0; j < vector.length; j++) {
    const v = vector[j];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new UserError(`vector[${j}] is ${typeof v === 'number' ? v : describeJsonValue(v)}; expected a finite number`, file, lineNumber);
    }
    if (!fitsFloat32(v)) throw new UserError(`vector[${j}] is ${v}: ${FLOAT32_RANGE}`, file, lineNumber);
    values[j] = v;
  }
  return { model, task, index, vector: values };
}

/**
 * A parsed JSON value for a message: scalars as JSON (long strings cut), arrays and objects by kind only, since
 * stringifying a 100,000-deep array would overflow the stack.
 */
function describeJsonValue(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Python's json module writes NaN and Infinity as bare tokens, which JSON.parse rejects. Finds the first such
 * element of "vector" so the message can say where it is; undefined when the line is invalid for another reason.
 */
function findNonFiniteToken(line: string): { index: number; token: string } | undefined {
  const tokens: string[] = [];
  const marked = line.replace(/(?<=[[,]\s*)(NaN|-?Infinity)(?=\s*[\],])/g, (token: string) => {
    tokens.push(token);
    return `{"nonFinite": ${tokens.length - 1}}`;
  });
  if (tokens.length === 0) return undefined;
  try {
    const vector = (JSON.parse(marked) as { vector?: unknown }).vector;
    if (!Array.isArray(vector)) return undefined;
    const index = vector.findIndex((v) => typeof v === 'object' && v !== null && 'nonFinite' in v);
    return index < 0 ? undefined : { index, token: tokens[(vector[index] as { nonFinite: number }).nonFinite] };
  } catch {
    return undefined;
  }
}

/** First index whose value is not finite once rounded to float32, or -1. */
function firstNonFinite(values: EmbeddingMatrix): number {
  for (let i = 0; i < values.length; i++) if (!fitsFloat32(values[i])) return i;
  return -1;
}

/** Rejects a matrix holding a value beyond float32's range, naming the file, row and column. */
function checkFloat32Range(values: Float64Array, cols: number, file: string): void {
  const bad = firstNonFinite(values);
  if (bad < 0) return;
  const row = Math.floor(bad / cols);
  throw new UserError(`value ${values[bad]} at row ${row}, column ${bad - row * cols}: ${FLOAT32_RANGE}`, file);
}

/** First index of a hole in a sparse array (0..length-1), or -1. */
function findGap(rows: (Float64Array | undefined)[]): number {
  for (let i = 0; i < rows.length; i++) if (rows[i] === undefined) return i;
  return -1;
}

// ---------------------------------------------------------------------------------------------------------------
// Names, files, helpers

/** Compares strings by Unicode code point (JavaScript's default sort compares UTF-16 code units). */
export function compareCodePoints(a: string, b: string): number {
  const ca = [...a];
  const cb = [...b];
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const d = (ca[i].codePointAt(0) as number) - (cb[i].codePointAt(0) as number);
    if (d !== 0) return d;
  }
  return ca.length - cb.length;
}

function baseFirst(tasks: string[]): string[] {
  return tasks.includes(BASE_TASK) ? [BASE_TASK, ...tasks.filter((t) => t !== BASE_TASK)] : tasks;
}

/** Percent-encodes what is unsafe in a file name on common file systems, and a leading dot (hidden files). */
function encodeName(name: string): string {
  const encoded = name.replace(/[%/\\:*?"<>|\u0000-\u001f\u007f]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  return encoded.startsWith('.') ? `%2E${encoded.slice(1)}` : encoded;
}

function decodeName(fileName: string): string {
  return fileName.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/**
 * Decoded name -> file name. Two names that decode to the same model or task ('model-a' and 'model%2Da', 'A.npy'
 * and '%41.npy') would be merged silently: rejected, naming both.
 */
function decodedNames(fileNames: string[], kind: 'model' | 'task', dir: string): Map<string, string> {
  const byName = new Map<string, string>();
  for (const fileName of fileNames) {
    const name = decodeName(kind === 'task' ? fileName.slice(0, -'.npy'.length) : fileName);
    const other = byName.get(name);
    if (other !== undefined) {
      throw new UserError(`'${other}' and '${fileName}' both decode to ${kind} '${name}'; rename or remove one`, dir);
    }
    byName.set(name, fileName);
  }
  return byName;
}

/** Throws a UserError when model or task names cannot all be written as a bundle: call before the embedding work. */
export function checkBundleNames(models: string[], tasks: string[]): void {
  uniqueFileNames(models, 'model');
  uniqueFileNames(tasks, 'task');
}

function uniqueFileNames(names: string[], kind: 'model' | 'task'): string[] {
  const seen = new Map<string, string>();
  return names.map((name) => {
    if (name === '') throw new UserError(`a ${kind} name is empty`);
    if (/[\r\n]/.test(name)) throw new UserError(`${kind} name ${JSON.stringify(name)} contains a line break`);
    const encoded = encodeName(name);
    // Case-insensitive file systems (macOS, Windows) would merge names that differ only by case.
    const key = encoded.toLowerCase();
    const clash = seen.get(key);
    if (clash !== undefined) {
      throw new UserError(`${kind} names '${clash}' and '${name}' differ only by case; they cannot both be file names`);
    }
    seen.set(key, name);
    return encoded;
  });
}

function checkBundleShape(bundle: EmbeddingBundle): void {
  const { models, tasks, n, dims, embeddings } = bundle;
  if (tasks[0] !== BASE_TASK) throw new Error(`writeBundle: tasks must start with ${BASE_TASK}`);
  if (dims.length !== models.length || embeddings.length !== models.length) {
    throw new Error('writeBundle: models, dims and embeddings differ in length');
  }
  embeddings.forEach((byTask, m) => {
    if (byTask.length !== tasks.length) throw new Error(`writeBundle: model ${models[m]} has ${byTask.length} matrices for ${tasks.length} tasks`);
    byTask.forEach((matrix, t) => {
      if (matrix.length !== n * dims[m]) {
        throw new Error(`writeBundle: ${models[m]}/${tasks[t]} has ${matrix.length} values, expected ${n} x ${dims[m]}`);
      }
    });
  });
  if (bundle.queries && bundle.queries.length !== n) throw new Error(`writeBundle: ${bundle.queries.length} queries for ${n} rows`);
}

async function listIfDirectory(dir: string): Promise<string[] | undefined> {
  try {
    return await fs.readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') throw new UserError('exists and is not a folder', dir);
    throw fileError(error, dir);
  }
}

async function checkOnlyBundleFiles(dir: string, entries: string[]): Promise<void> {
  for (const entry of entries) {
    const full = path.join(dir, entry);
    const stat = await fs.lstat(full);
    if (stat.isFile() && [QUERIES_FILE, MODELS_FILE, TASKS_FILE, INSTRUCTIONS_FILE, DIAGNOSTICS_FILE, ...EVALUATION_BUNDLE_FILES].includes(entry)) continue;
    if (stat.isDirectory()) {
      const foreign = (await fs.readdir(full, { withFileTypes: true })).find((e) => !(e.isFile() && e.name.endsWith('.npy')));
      if (!foreign) continue;
      throw new UserError(`not replacing the bundle folder: ${path.join(full, foreign.name)} is not a bundle file`, dir);
    }
    throw new UserError(`not replacing the bundle folder: ${full} is not a bundle file`, dir);
  }
}

async function moveIntoPlace(temp: string, dir: string, existing: string[] | undefined): Promise<void> {
  if (existing === undefined) {
    await fs.rename(temp, dir);
    return;
  }
  // Replace an existing folder: move it aside, move the new one in, then delete the old one.
  const old = tempSiblingPath(dir);
  await fs.rename(dir, old);
  try {
    await fs.rename(temp, dir);
  } catch (error) {
    await fs.rename(old, dir);
    throw error;
  }
  await fs.rm(old, { recursive: true, force: true });
}

async function readDir(dir: string): Promise<Dirent[]> {
  try {
    checkUtf8Names(await fs.readdir(dir, { encoding: 'buffer' }), dir);
    return await fs.readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw fileError(error, dir);
  }
}

/** Names are model and task names, read as UTF-8: a name in another encoding is named (escaped), never mangled. */
function checkUtf8Names(names: Buffer[], dir: string): void {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (const name of names) {
    try {
      decoder.decode(name);
    } catch {
      const escaped = [...name].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
      throw new UserError(`the name '${escaped}' is not valid UTF-8 (model and task names are read as UTF-8): rename it`, dir);
    }
  }
}

/** Names of the entries of one kind, following symbolic links and skipping hidden names. */
async function filterEntries(dir: string, entries: Dirent[], kind: 'file' | 'directory'): Promise<string[]> {
  const names: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      const stat = await fs.stat(path.join(dir, entry.name)).catch(() => undefined);
      isDir = stat?.isDirectory() ?? false;
      isFile = stat?.isFile() ?? false;
    }
    if (kind === 'directory' ? isDir : isFile) names.push(entry.name);
  }
  return names;
}

/** A *.npy entry that is neither a folder nor a regular file (a FIFO, a device, a symbolic link loop) is named, not skipped. */
async function checkSpecialNpy(dir: string, entries: Dirent[], files: string[]): Promise<void> {
  for (const entry of entries) {
    if (!entry.name.endsWith('.npy') || entry.name.startsWith('.') || entry.isDirectory() || files.includes(entry.name)) continue;
    const file = path.join(dir, entry.name);
    if ((await fs.stat(file).catch(() => undefined))?.isDirectory()) continue;
    await checkRegularFile(file, MAX_ARRAY_FILE_BYTES);
  }
}

/** Files read while earlier ones are parsed: at most this many file contents held at once besides the one parsed. */
const READ_AHEAD = 2;

/**
 * `get(i)` gives the contents of files[i]; calls must come in index order. Reading of the next `ahead` files starts
 * as soon as one is asked for, so disk reads overlap the parsing; errors surface in file order (each read's failure
 * is reported by the call that asks for that file).
 */
function aheadReader(files: readonly string[], ahead: number): (i: number) => Promise<Buffer> {
  const pending = new Map<number, Promise<Buffer>>();
  let next = 0;
  return (i) => {
    while (next < files.length && next <= i + ahead) {
      const read = readFile(files[next]);
      read.catch(() => undefined); // handled when its file is asked for
      pending.set(next++, read);
    }
    const read = pending.get(i)!;
    pending.delete(i);
    return read;
  };
}

async function readFile(file: string): Promise<Buffer> {
  try {
    return await readRegularFile(file, MAX_ARRAY_FILE_BYTES, { shared: true });
  } catch (error) {
    throw fileError(error, file);
  }
}

/** A text file of the bundle, read with the rule of every user text file (UTF-8, regular file); undefined when absent. */
async function readOptionalText(file: string): Promise<string | undefined> {
  try {
    await fs.lstat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fileError(error, file);
  }
  return readUtf8File(file);
}

/** Lines of a text file: \n or \r\n separated, a final line break does not start another line. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function fileError(error: unknown, file: string): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new UserError('no such file or folder', file);
  if (code === 'EACCES' || code === 'EPERM') return new UserError('permission denied', file);
  if (code === 'EISDIR') return new UserError('is a folder, expected a file', file);
  if (code === 'ENOTDIR') return new UserError('a part of this path is not a folder', file);
  return fileSystemError(error, file);
}
