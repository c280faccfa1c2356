/**
 * Worker thread running the use-lite model (bundled to dist/useLiteWorker.js, started by src/models/useLite.ts).
 * workerData: { modelDir }. Each request { id, texts } is answered, in order, by { id, vectors } (512-d rows, as the
 * model outputs them) or { id, error }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadUseLiteModel, UseLiteModel } from './useLiteModel';

export interface UseLiteRequest {
  id: number;
  texts: string[];
}

export type UseLiteResponse = { id: number; vectors: Float32Array[] } | { id: number; error: string };

const port = parentPort;
if (!port) throw new Error('useLiteWorker must run as a worker thread');
const { modelDir } = workerData as { modelDir: string };

let model: Promise<UseLiteModel> | undefined;
// Requests run one after the other; inference is synchronous CPU work anyway.
let queue: Promise<void> = Promise.resolve();

async function handle(request: UseLiteRequest): Promise<UseLiteResponse> {
  try {
    model ??= loadUseLiteModel(modelDir);
    const loaded = await model;
    const vectors = await loaded.embedTokens(request.texts.map((text) => loaded.tokenizer.encode(text)));
    return { id: request.id, vectors };
  } catch (error) {
    return { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
}

port.on('message', (request: UseLiteRequest) => {
  queue = queue.then(async () => {
    const response = await handle(request);
    const transfer = 'vectors' in response ? response.vectors.map((v) => v.buffer as ArrayBuffer) : [];
    port.postMessage(response, transfer);
  });
});
