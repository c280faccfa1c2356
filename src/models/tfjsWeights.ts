/**
 * Reads the weights of a TF.js graph model (model.json's weightsManifest + the binary shards) without TF.js:
 * each group's shards are concatenated and its weights follow one another in manifest order.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { UserError } from '../engine/errors';

export interface TfjsWeight {
  dtype: 'float32' | 'int32';
  shape: number[];
  /** Little-endian element bytes (a view into the shard data). */
  bytes: Buffer;
}

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

interface ModelJson {
  weightsManifest?: Array<{ paths: string[]; weights: ManifestEntry[] }>;
}

export class TfjsWeights {
  constructor(
    private readonly file: string,
    private readonly weights: Map<string, TfjsWeight>,
  ) {}

  shapeOf(name: string): number[] {
    const weight = this.weights.get(name);
    if (!weight) throw new UserError(`weight "${name}" not found`, this.file);
    return weight.shape;
  }

  get(name: string, shape: number[]): TfjsWeight {
    const weight = this.weights.get(name);
    if (!weight) throw new UserError(`weight "${name}" not found`, this.file);
    if (weight.shape.length !== shape.length || weight.shape.some((d, i) => d !== shape[i])) {
      throw new UserError(`weight "${name}" has shape [${weight.shape}], expected [${shape}]`, this.file);
    }
    return weight;
  }

  float32(name: string, shape: number[]): TfjsWeight {
    const weight = this.get(name, shape);
    if (weight.dtype !== 'float32') throw new UserError(`weight "${name}" is ${weight.dtype}, expected float32`, this.file);
    return weight;
  }

  /** The values of a small int32 constant (shapes, sizes). */
  int32Values(name: string, shape: number[]): number[] {
    const weight = this.get(name, shape);
    if (weight.dtype !== 'int32') throw new UserError(`weight "${name}" is ${weight.dtype}, expected int32`, this.file);
    return Array.from({ length: weight.bytes.length / 4 }, (_, i) => weight.bytes.readInt32LE(i * 4));
  }

  float32Scalar(name: string): number {
    return this.float32(name, []).bytes.readFloatLE(0);
  }

  int32Scalar(name: string): number {
    return this.int32Values(name, [])[0];
  }
}

/** Loads every weight listed in `<modelDir>/model.json`. */
export async function readTfjsWeights(modelDir: string, modelJsonText: string): Promise<TfjsWeights> {
  const file = path.join(modelDir, 'model.json');
  let model: ModelJson;
  try {
    model = JSON.parse(modelJsonText) as ModelJson;
  } catch (error) {
    throw new UserError(`not valid JSON: ${(error as Error).message}`, file);
  }
  if (!Array.isArray(model.weightsManifest)) throw new UserError('no weightsManifest', file);
  const weights = new Map<string, TfjsWeight>();
  for (const group of model.weightsManifest) {
    const shards = await Promise.all(
      group.paths.map(async (shard) => {
        const shardFile = path.join(modelDir, shard);
        try {
          return await fs.readFile(shardFile);
        } catch {
          throw new UserError('weight shard missing or unreadable', shardFile);
        }
      }),
    );
    const data = Buffer.concat(shards);
    let offset = 0;
    for (const entry of group.weights) {
      if (entry.quantization !== undefined || (entry.dtype !== 'float32' && entry.dtype !== 'int32')) {
        throw new UserError(`weight "${entry.name}": unsupported dtype ${entry.dtype}${entry.quantization ? ' (quantized)' : ''}`, file);
      }
      const size = entry.shape.reduce((product, d) => product * d, 1) * 4;
      if (offset + size > data.length) throw new UserError(`weight "${entry.name}" runs past the end of its shards`, file);
      weights.set(entry.name, { dtype: entry.dtype, shape: entry.shape, bytes: data.subarray(offset, offset + size) });
      offset += size;
    }
    if (offset !== data.length) throw new UserError(`shards hold ${data.length} bytes, the manifest lists ${offset}`, file);
  }
  return new TfjsWeights(file, weights);
}
