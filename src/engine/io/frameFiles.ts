/**
 * The frame of an analysis on disk (`--save-frame`, `--frame`): a folder `frame/` beside results.json.
 *
 *   frame/frame.json             description, map and small arrays (format "instruction-lens-frame", version 1)
 *   frame/points.npy             the P aligned points, P x (N*k) (flatten) or P x k (centroid), float64
 *   frame/model-<i>-mean.npy     mu of model i (models order), 1 x d, float64
 *   frame/model-<i>-basis.npy    W of model i, d x k, float64
 *   frame/model-<i>-rotation.npy Q_{i,ref}, k x k, float64; absent for the reference model
 *
 * frame.json: { format, version, frameId, n, k, tasks, reference (model name), referenceChosenBy, pointsMode,
 * mdsMethod, seed, queriesSha256 (null when the queries were unknown), models: [{ name, dim, taskSha256 (one per
 * task: SHA-256 of the float64 matrix), mean, basis, rotation (file names; rotation null for the reference) }],
 * points (file name), coords ([x, y] per point as shown, model-major), placement ({ rotation: 2 x 2, translation }:
 * shown = MDS coordinates moved by it), classical (null for SMACOF maps, else { values, coords, rowMeanSquared }),
 * procrustesDistance (M x M), explainedVarianceRatio (per model) }. Files are named by model index, never by model
 * name (names are data). Numbers are exact: JSON numbers round-trip float64, the .npy files are float64.
 * The folder is written under a temporary name and renamed into place, so a reader never sees half a frame.
 */
import * as fs from 'node:fs/promises';
import { forceHint } from './forceHint';
import * as path from 'node:path';
import { tempSiblingPath, writeFileAtomic } from './atomicWrite';
import { encodeNpyFloat64, parseNpy } from './npy';
import { UserError } from '../errors';
import type { PlaneTransform } from '../method/anchor';
import { frameIdOf, type MapFrame, type ModelFrame, pointLength } from '../method/frame';

export const FRAME_DIR = 'frame';
export const FRAME_FILE = 'frame.json';
export const FRAME_FORMAT = 'instruction-lens-frame';
export const FRAME_VERSION = 1;

const meanFile = (m: number): string => `model-${m}-mean.npy`;
const basisFile = (m: number): string => `model-${m}-basis.npy`;
const rotationFile = (m: number): string => `model-${m}-rotation.npy`;
const POINTS_FILE = 'points.npy';

const pairs = (a: Float64Array): number[][] => Array.from({ length: a.length / 2 }, (_, i) => [a[2 * i], a[2 * i + 1]]);
const rowsOf = (a: Float64Array, size: number): number[][] => Array.from({ length: size }, (_, i) => Array.from(a.subarray(i * size, (i + 1) * size)));

/** Refuses (UserError) when `<outDir>/frame` exists and `force` is not set. Call before the work. */
export async function checkFrameDir(outDir: string, force: boolean): Promise<void> {
  const dir = path.join(outDir, FRAME_DIR);
  const exists = await fs.stat(dir).then(
    () => true,
    () => false,
  );
  if (exists && !force) throw new UserError(`a frame of an earlier run is here; not overwriting it (${forceHint('it')})`, dir);
}

/** Writes the frame into `<outDir>/frame` (replacing an earlier one only with `force`). Returns the folder. */
export async function writeFrame(outDir: string, frame: MapFrame, options: { force: boolean }): Promise<string> {
  await checkFrameDir(outDir, options.force);
  const dir = path.join(outDir, FRAME_DIR);
  const temp = tempSiblingPath(dir);
  const p = frame.models.length * frame.tasks.length;
  const len = pointLength(frame);
  await fs.mkdir(temp, { recursive: true });
  try {
    const write = (name: string, data: string | Uint8Array): Promise<void> => writeFileAtomic(path.join(temp, name), data);
    await write(POINTS_FILE, encodeNpyFloat64(p, len, frame.points));
    for (const [m, model] of frame.models.entries()) {
      await write(meanFile(m), encodeNpyFloat64(1, model.dim, model.mean));
      await write(basisFile(m), encodeNpyFloat64(model.dim, frame.k, model.basis));
      if (model.rotation) await write(rotationFile(m), encodeNpyFloat64(frame.k, frame.k, model.rotation));
    }
    await write(FRAME_FILE, frameJson(frame));
    const old = tempSiblingPath(dir);
    const replaced = await fs.rename(dir, old).then(
      () => true,
      () => false,
    );
    await fs.rename(temp, dir);
    if (replaced) await fs.rm(old, { recursive: true, force: true });
  } catch (error) {
    await fs.rm(temp, { recursive: true, force: true });
    throw error;
  }
  return dir;
}

function frameJson(frame: MapFrame): string {
  const [r0, r1, r2, r3] = frame.placement.rotation;
  const description = {
    format: FRAME_FORMAT,
    version: FRAME_VERSION,
    frameId: frame.frameId,
    n: frame.n,
    k: frame.k,
    tasks: frame.tasks,
    reference: frame.models[frame.reference].name,
    referenceChosenBy: frame.referenceChosenBy,
    pointsMode: frame.pointsMode,
    mdsMethod: frame.mdsMethod,
    seed: frame.seed,
    queriesSha256: frame.queriesDigest ?? null,
    models: frame.models.map((model, m) => ({
      name: model.name,
      dim: model.dim,
      taskSha256: model.taskDigests,
      mean: meanFile(m),
      basis: basisFile(m),
      rotation: model.rotation ? rotationFile(m) : null,
    })),
    points: POINTS_FILE,
    coords: pairs(frame.coords),
    placement: { rotation: [[r0, r1], [r2, r3]], translation: frame.placement.translation },
    classical: frame.classical
      ? { values: frame.classical.values, coords: pairs(frame.classical.coords), rowMeanSquared: Array.from(frame.classical.rowMeanSquared) }
      : null,
    procrustesDistance: rowsOf(frame.procrustesDistance, frame.models.length),
    explainedVarianceRatio: frame.explainedVarianceRatio.map((values) => Array.from(values)),
  };
  return JSON.stringify(description, null, 1) + '\n';
}

/**
 * Reads a frame. `target`: an output folder holding frame/, the frame folder itself, or its frame.json. Anything
 * missing, malformed or inconsistent is a UserError naming the file.
 */
export async function readFrame(target: string): Promise<{ frame: MapFrame; file: string }> {
  const dir = await frameFolder(target);
  const file = path.join(dir, FRAME_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? 'no frame here (write one with --save-frame)' : `not a frame file: ${(error as Error).message}`, file);
  }
  const d = new Reader(raw, file);
  if (d.value.format !== FRAME_FORMAT) throw new UserError(`not a frame file (format must be "${FRAME_FORMAT}")`, file);
  if (d.value.version !== FRAME_VERSION) throw new UserError(`frame version ${String(d.value.version)} is not supported (this version reads ${FRAME_VERSION})`, file);
  const n = d.int('n', 3);
  const k = d.int('k', 1);
  const tasks = d.strings('tasks');
  if (tasks.length === 0 || new Set(tasks).size !== tasks.length) throw new UserError('tasks must be distinct and not empty', file);
  const pointsMode = d.choice('pointsMode', ['flatten', 'centroid'] as const);
  const mdsMethod = d.choice('mdsMethod', ['classical', 'smacof'] as const);
  const referenceChosenBy = d.choice('referenceChosenBy', ['auto', 'user'] as const);
  const seed = d.int('seed', 0);
  const rawModels = d.array('models');
  if (rawModels.length === 0) throw new UserError('models must not be empty', file);
  const models: ModelFrame[] = [];
  for (const [m, value] of rawModels.entries()) {
    const md = new Reader(value, file, `models[${m}]`);
    const dim = md.int('dim', 1);
    const taskDigests = md.strings('taskSha256');
    if (taskDigests.length !== tasks.length) throw new UserError(`models[${m}].taskSha256 needs one digest per task (${tasks.length})`, file);
    const mean = await readMatrix(dir, md.fileName('mean'), 1, dim);
    const basis = await readMatrix(dir, md.fileName('basis'), dim, k);
    const rotationName = md.value.rotation === null ? null : md.fileName('rotation');
    const rotation = rotationName === null ? null : await readMatrix(dir, rotationName, k, k);
    models.push({ name: md.string('name'), dim, mean, basis, rotation, taskDigests });
  }
  const names = models.map((model) => model.name);
  if (new Set(names).size !== names.length) throw new UserError('model names repeat', file);
  const referenceName = d.string('reference');
  const reference = names.indexOf(referenceName);
  if (reference < 0) throw new UserError(`reference '${referenceName}' is not one of the models`, file);
  if (models.filter((model) => model.rotation === null).length !== 1 || models[reference].rotation !== null)
    throw new UserError('exactly the reference model must have rotation null', file);
  const p = models.length * tasks.length;
  const len = pointsMode === 'flatten' ? n * k : k;
  const points = await readMatrix(dir, d.fileName('points'), p, len);
  const coords = d.pairs('coords', p);
  const placementReader = new Reader(d.value.placement, file, 'placement');
  const rotation = placementReader.matrix('rotation', 2, 2).flat();
  const translation = placementReader.numbers('translation', 2);
  const placement: PlaneTransform = { rotation: [rotation[0], rotation[1], rotation[2], rotation[3]], translation: [translation[0], translation[1]] };
  let classical: MapFrame['classical'];
  if (mdsMethod === 'classical') {
    const cd = new Reader(d.value.classical, file, 'classical');
    const values = cd.numbers('values', 2);
    classical = { values: [values[0], values[1]], coords: cd.pairs('coords', p), rowMeanSquared: Float64Array.from(cd.numbers('rowMeanSquared', p)) };
  } else if (d.value.classical !== null) throw new UserError('classical must be null for a SMACOF map', file);
  const procrustesDistance = Float64Array.from(d.matrix('procrustesDistance', models.length, models.length).flat());
  const evr = d.array('explainedVarianceRatio');
  if (evr.length !== models.length) throw new UserError(`explainedVarianceRatio needs one list per model (${models.length})`, file);
  const explainedVarianceRatio = evr.map((_, m) => Float64Array.from(d.numbers(`explainedVarianceRatio[${m}]`, k, evr[m])));
  const queries = d.value.queriesSha256;
  if (queries !== null && typeof queries !== 'string') throw new UserError('queriesSha256 must be a string or null', file);
  const frame: Omit<MapFrame, 'frameId'> = {
    models,
    tasks,
    n,
    k,
    reference,
    referenceChosenBy,
    pointsMode,
    mdsMethod,
    seed,
    ...(queries !== null ? { queriesDigest: queries } : {}),
    points,
    coords,
    ...(classical ? { classical } : {}),
    placement,
    procrustesDistance,
    explainedVarianceRatio,
  };
  const frameId = d.string('frameId');
  if (frameIdOf(frame) !== frameId) throw new UserError('frameId does not match the frame’s contents (the frame was changed)', file);
  return { frame: { ...frame, frameId }, file };
}

async function frameFolder(target: string): Promise<string> {
  if (path.basename(target) === FRAME_FILE) return path.dirname(target);
  const inner = path.join(target, FRAME_DIR);
  const hasInner = await fs.stat(path.join(inner, FRAME_FILE)).then(
    () => true,
    () => false,
  );
  return hasInner ? inner : target;
}

async function readMatrix(dir: string, name: string, rows: number, cols: number): Promise<Float64Array> {
  const file = path.join(dir, name);
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch {
    throw new UserError('missing file of the frame', file);
  }
  const matrix = parseNpy(bytes, file);
  if (matrix.rows !== rows || matrix.cols !== cols)
    throw new UserError(`expected shape (${rows}, ${cols}), got (${matrix.rows}, ${matrix.cols})`, file);
  if (matrix.dtype !== '<f8' || !(matrix.data instanceof Float64Array)) throw new UserError('a frame file must be float64 (<f8)', file);
  return matrix.data;
}

/** Typed reads of a JSON object, each failure a UserError naming the file and the field. */
class Reader {
  readonly value: Record<string, unknown>;

  constructor(
    value: unknown,
    private readonly file: string,
    private readonly at = '',
  ) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UserError(`${at || 'frame'} must be an object`, file);
    this.value = value as Record<string, unknown>;
  }

  private fail(key: string, what: string): never {
    throw new UserError(`${this.at ? `${this.at}.` : ''}${key} must be ${what}`, this.file);
  }

  string(key: string): string {
    const v = this.value[key];
    return typeof v === 'string' ? v : this.fail(key, 'a string');
  }

  fileName(key: string): string {
    const v = this.string(key);
    // Only a plain file name inside the frame folder.
    return /^[\w.-]+\.npy$/.test(v) && !v.startsWith('.') ? v : this.fail(key, 'a .npy file name in the frame folder');
  }

  int(key: string, min: number): number {
    const v = this.value[key];
    return Number.isSafeInteger(v) && (v as number) >= min ? (v as number) : this.fail(key, `an integer >= ${min}`);
  }

  choice<T extends string>(key: string, choices: readonly T[]): T {
    const v = this.value[key];
    return (choices as readonly unknown[]).includes(v) ? (v as T) : this.fail(key, `one of ${choices.join(', ')}`);
  }

  array(key: string): unknown[] {
    const v = this.value[key];
    return Array.isArray(v) ? v : this.fail(key, 'an array');
  }

  strings(key: string): string[] {
    const v = this.array(key);
    return v.every((x) => typeof x === 'string') ? (v as string[]) : this.fail(key, 'an array of strings');
  }

  numbers(key: string, length: number, value: unknown = this.value[key]): number[] {
    return Array.isArray(value) && value.length === length && value.every((x) => typeof x === 'number' && Number.isFinite(x))
      ? (value as number[])
      : this.fail(key, `${length} finite numbers`);
  }

  matrix(key: string, rows: number, cols: number): number[][] {
    const v = this.array(key);
    if (v.length !== rows) this.fail(key, `${rows} x ${cols} numbers`);
    return v.map((row) => this.numbers(key, cols, row));
  }

  pairs(key: string, count: number): Float64Array {
    return Float64Array.from(this.matrix(key, count, 2).flat());
  }
}
