/**
 * Loads a sentence-transformers Dense layer (INSTRUCTOR's `2_Dense/`) from a model folder.
 * Supported: `2_Dense/config.json` + `2_Dense/model.safetensors` with F32, F16 or BF16 tensors `linear.weight`
 * [out, in] and optional `linear.bias` [out]; activation Identity or Tanh. A PyTorch pickle
 * (`pytorch_model.bin`) cannot be read here: the error says how to convert it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../engine/errors';
import type { DenseLayer } from './pooling';

const DENSE_FOLDER = '2_Dense';
const DENSE_FILES = ['config.json', 'model.safetensors'];

/**
 * Fetches `2_Dense/config.json` and `2_Dense/model.safetensors` of a Hub model into `modelDir/2_Dense` (the
 * model's folder in our cache) when they are not there yet. transformers.js only fetches the files of the ONNX
 * model, not the sentence-transformers modules. A model without a 2_Dense folder on the Hub is left as is.
 */
export async function fetchDenseLayer(hubUrl: string, model: string, revision: string, modelDir: string): Promise<void> {
  const dir = path.join(modelDir, DENSE_FOLDER);
  if (DENSE_FILES.every((f) => fs.existsSync(path.join(dir, f)))) return;
  for (const file of DENSE_FILES) {
    const url = `${hubUrl}${model}/resolve/${encodeURIComponent(revision)}/${DENSE_FOLDER}/${file}`;
    const response = await fetch(url);
    if (response.status === 404) return;
    if (!response.ok) throw new UserError(`cannot download ${url}: HTTP ${response.status}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    fs.mkdirSync(dir, { recursive: true });
    const temp = path.join(dir, `${file}.${process.pid}.tmp`);
    fs.writeFileSync(temp, bytes);
    fs.renameSync(temp, path.join(dir, file));
  }
}

/** The Dense layer in `modelDir`, or undefined when the folder has no `2_Dense/config.json`. */
export function loadDenseLayer(modelDir: string): DenseLayer | undefined {
  const dir = path.join(modelDir, DENSE_FOLDER);
  const configFile = path.join(dir, 'config.json');
  if (!fs.existsSync(configFile)) return undefined;
  const config = readJson(configFile) as {
    in_features?: number;
    out_features?: number;
    activation_function?: string;
  };
  const weightsFile = path.join(dir, 'model.safetensors');
  if (!fs.existsSync(weightsFile)) {
    throw new UserError(
      `the Dense layer has no model.safetensors (only safetensors can be read; convert pytorch_model.bin with ` +
        `safetensors.torch.save_file or re-save the model with sentence-transformers)`,
      dir,
    );
  }
  const activationName = (config.activation_function ?? 'torch.nn.modules.linear.Identity').split('.').pop();
  if (activationName !== 'Identity' && activationName !== 'Tanh') {
    throw new UserError(`unsupported Dense activation "${config.activation_function}" (Identity or Tanh)`, configFile);
  }
  const tensors = readSafetensors(weightsFile);
  const weight = tensors.get('linear.weight');
  if (!weight || weight.shape.length !== 2) throw new UserError('no 2-D tensor "linear.weight"', weightsFile);
  const [outFeatures, inFeatures] = weight.shape;
  if (
    (config.in_features !== undefined && config.in_features !== inFeatures) ||
    (config.out_features !== undefined && config.out_features !== outFeatures)
  ) {
    throw new UserError(
      `linear.weight is [${outFeatures}, ${inFeatures}] but config.json says ${config.out_features} x ${config.in_features}`,
      weightsFile,
    );
  }
  const bias = tensors.get('linear.bias');
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== outFeatures)) {
    throw new UserError(`linear.bias has shape [${bias.shape}], expected [${outFeatures}]`, weightsFile);
  }
  return {
    inFeatures,
    outFeatures,
    weight: weight.values,
    bias: bias?.values,
    activation: activationName === 'Tanh' ? 'tanh' : 'identity',
  };
}

interface SafeTensor {
  shape: number[];
  values: Float32Array;
}

/** Reads every floating-point tensor of a .safetensors file as float32. */
export function readSafetensors(file: string): Map<string, SafeTensor> {
  const bytes = fs.readFileSync(file);
  if (bytes.length < 8) throw new UserError('not a safetensors file (too short)', file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  if (8 + headerLength > bytes.length) throw new UserError('not a safetensors file (header past the end)', file);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
  } catch {
    throw new UserError('not a safetensors file (header is not JSON)', file);
  }
  const dataStart = 8 + headerLength;
  const out = new Map<string, SafeTensor>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [begin, end] = info.data_offsets;
    const raw = bytes.subarray(dataStart + begin, dataStart + end);
    const count = info.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(count);
    if (info.dtype === 'F32') {
      for (let i = 0; i < count; i++) values[i] = raw.readFloatLE(i * 4);
    } else if (info.dtype === 'F16') {
      for (let i = 0; i < count; i++) values[i] = halfToFloat(raw.readUInt16LE(i * 2));
    } else if (info.dtype === 'BF16') {
      const scratch = Buffer.alloc(4);
      for (let i = 0; i < count; i++) {
        scratch.writeUInt32LE(raw.readUInt16LE(i * 2) << 16 >>> 0, 0);
        values[i] = scratch.readFloatLE(0);
      }
    } else {
      continue;
    }
    if (raw.length !== count * (info.dtype === 'F32' ? 4 : 2)) {
      throw new UserError(`tensor "${name}" has ${raw.length} bytes for shape [${info.shape}]`, file);
    }
    out.set(name, { shape: info.shape, values });
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UserError(`cannot read JSON: ${(error as Error).message}`, file);
  }
}
