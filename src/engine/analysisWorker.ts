/**
 * Worker thread for runAnalysis.ts: runs one stage function of analyze.ts per message and posts the result.
 * Inputs it shares with the other worker (scores, rotations) arrive as SharedArrayBuffer-backed arrays; its own
 * outputs are written into shared arrays given by the caller or transferred back, never copied twice.
 */
import { parentPort } from 'node:worker_threads';
import { analyseModel, mapForReference } from './analyze';
import { procrustesPair } from './procrustes';
import type { WorkerReply, WorkerRequest } from './runAnalysis';

const port = parentPort;
if (!port) throw new Error('analysisWorker.js must run in a worker thread');

port.on('message', (request: WorkerRequest) => void handle(request));

async function handle(request: WorkerRequest): Promise<void> {
  try {
    if (request.type === 'model') {
      const stage = await analyseModel(request.bundle, 0, request.k);
      request.scoresOut.set(stage.scores);
      reply({ id: request.id, type: 'model', explainedVarianceRatio: stage.explainedVarianceRatio, displacement: stage.displacement });
    } else if (request.type === 'pair') {
      const pair = await procrustesPair(request.source, request.target, request.n, request.k);
      request.rotationOut.set(pair.q);
      reply({ id: request.id, type: 'pair', sigmaSum: pair.sigmaSum });
    } else {
      const map = await mapForReference(request.input, request.ref);
      const transfer = [map.coords.buffer as ArrayBuffer];
      if (request.wantCosine) transfer.push(map.cosine.buffer as ArrayBuffer);
      reply(
        { id: request.id, type: 'map', coords: map.coords, stress: map.stress, cosine: request.wantCosine ? map.cosine : undefined },
        transfer,
      );
    }
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    reply({ id: request.id, type: 'error', name: e.name, message: e.message, stack: e.stack });
  }
}

function reply(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}
