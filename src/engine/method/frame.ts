/**
 * The frame of a full analysis (METHOD.md "Live preview (frozen frame) and anchoring"): everything needed to project
 * the embeddings of an edited or new task into that analysis's common space and onto its 2-D map without moving
 * anything else. Per model its PCA mean mu_m and basis W_m and its rotation Q_{m,ref} onto the reference; the P aligned
 * points (step 7); the map as shown; and, for classical maps, what Gower's out-of-sample formula needs. The shown map
 * may be the MDS coordinates moved by a rigid motion (anchoring): `placement` takes MDS coordinates to shown ones.
 * preview.ts projects into a frame, io/frameFiles.ts writes and reads it.
 */
import { createHash } from 'node:crypto';
import { composePlane, IDENTITY_PLANE, type PlaneTransform, applyPlaneInPlace } from './anchor';
import type { MapStage, ModelStage, ResolvedOptions } from './analyze';
import type { ClassicalFit } from './mds';
import { queriesDigest } from './frameDigest';
import { pointShape } from './mapPoints';
import { rotationOnto } from './procrustes';
import type { EmbeddingBundle, MdsMethod, PointsMode } from '../types';

export interface ModelFrame {
  name: string;
  dim: number;
  /** mu_m, length d. */
  mean: Float64Array;
  /** W_m, d x k row-major. */
  basis: Float64Array;
  /** Q_{m,ref}, k x k row-major; null for the reference model (identity). */
  rotation: Float64Array | null;
  /** frameDigest.matrixDigest of each task's embedding matrix, in the frame's tasks order. */
  taskDigests: string[];
}

export interface MapFrame {
  /** A digest of everything below: tells two frames apart. */
  frameId: string;
  models: ModelFrame[];
  tasks: string[];
  n: number;
  k: number;
  /** Index of the reference model. */
  reference: number;
  referenceChosenBy: 'auto' | 'user';
  pointsMode: PointsMode;
  mdsMethod: MdsMethod;
  seed: number;
  /** frameDigest.queriesDigest of the query texts, when known. */
  queriesDigest?: string;
  /** The P = M*T aligned points, model-major, task-minor: P x (N*k) for flatten, P x k for centroid. */
  points: Float64Array;
  /** The map as shown, P x 2. */
  coords: Float64Array;
  /** Classical maps: the MDS fit (coordinates before placement). */
  classical?: ClassicalFit;
  /** Shown coordinates = MDS coordinates moved by this (identity unless the map was anchored). */
  placement: PlaneTransform;
  /** D, M x M row-major. */
  procrustesDistance: Float64Array;
  explainedVarianceRatio: Float64Array[];
}

/** Length of one point's vector (queries x width of mapPoints' pointShape, where the rule lives). */
export function pointLength(frame: Pick<MapFrame, 'pointsMode' | 'n' | 'k'>): number {
  const { queries, width } = pointShape(frame.pointsMode, 1, 1, frame.n, frame.k);
  return queries * width;
}

/** The frame of an exact analysis, from its stages (run with frames on: analyseModel and mapForReference). */
export function buildFrame(
  bundle: EmbeddingBundle,
  opts: ResolvedOptions,
  stages: readonly ModelStage[],
  pairRotations: readonly Float64Array[],
  distance: Float64Array,
  ref: number,
  main: MapStage,
): MapFrame {
  const { k } = opts;
  const mCount = bundle.models.length;
  if (!main.frame) throw new Error('buildFrame: the main map was computed without its frame');
  const models = bundle.models.map((name, m): ModelFrame => {
    const stage = stages[m].frame;
    if (!stage) throw new Error(`buildFrame: model ${m} was analysed without its frame`);
    return { name, dim: bundle.dims[m], mean: stage.mean, basis: stage.basis, rotation: rotationMatrix(pairRotations, m, ref, mCount, k), taskDigests: stage.taskDigests };
  });
  const frame: Omit<MapFrame, 'frameId'> = {
    models,
    tasks: [...bundle.tasks],
    n: bundle.n,
    k,
    reference: ref,
    referenceChosenBy: opts.reference === undefined ? 'auto' : 'user',
    pointsMode: opts.points,
    mdsMethod: opts.mds,
    seed: opts.seed,
    ...(bundle.queries ? { queriesDigest: queriesDigest(bundle.queries) } : {}),
    points: main.frame.points,
    coords: main.coords.slice(),
    ...(main.frame.classical ? { classical: main.frame.classical } : {}),
    placement: IDENTITY_PLANE,
    procrustesDistance: distance,
    explainedVarianceRatio: stages.map((stage) => stage.explainedVarianceRatio),
  };
  return { ...frame, frameId: frameIdOf(frame) };
}

/** The frame with its map moved by `transform` (the map of its analysis was anchored). */
export function anchorFrame(frame: MapFrame, transform: PlaneTransform): MapFrame {
  const coords = frame.coords.slice();
  applyPlaneInPlace(transform, coords, coords.length / 2);
  const { frameId: _old, ...rest } = frame;
  const moved = { ...rest, coords, placement: composePlane(frame.placement, transform) };
  return { ...moved, frameId: frameIdOf(moved) };
}

/** Q_{m,ref} as its own k x k row-major matrix (the pair rotations store Q_ij for i < j only). */
function rotationMatrix(pairs: readonly Float64Array[], m: number, ref: number, models: number, k: number): Float64Array | null {
  const stored = rotationOnto(pairs, m, ref, models);
  if (!stored) return null;
  if (!stored.transposed) return Float64Array.from(stored.q);
  const q = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) q[i * k + j] = stored.q[j * k + i];
  return q;
}

/**
 * SHA-256 over what determines the frame, hex, first 16 characters: the analysis is a deterministic function of the
 * embeddings (their digests) and the options, and its placement moves the map; the shown coordinates are hashed too.
 * Cheap (no pass over the bases or points), so it can run on the extension host's thread.
 */
export function frameIdOf(frame: Omit<MapFrame, 'frameId'>): string {
  const hash = createHash('sha256');
  const describe = {
    models: frame.models.map((m) => ({ name: m.name, dim: m.dim, taskDigests: m.taskDigests, reference: m.rotation === null })),
    tasks: frame.tasks,
    n: frame.n,
    k: frame.k,
    reference: frame.reference,
    referenceChosenBy: frame.referenceChosenBy,
    pointsMode: frame.pointsMode,
    mdsMethod: frame.mdsMethod,
    seed: frame.seed,
    queriesDigest: frame.queriesDigest ?? null,
    placement: frame.placement,
  };
  hash.update(JSON.stringify(describe));
  hash.update(new Uint8Array(frame.coords.buffer, frame.coords.byteOffset, frame.coords.byteLength));
  return hash.digest('hex').slice(0, 16);
}
