/**
 * Worker thread for runAnalysis.ts: runs one stage function of analyze.ts per message and posts the result.
 * Inputs it shares with the other worker (scores, rotations) arrive as SharedArrayBuffer-backed arrays; scores and
 * rotations it computes go back in shared arrays it allocates, map results are transferred back: nothing is copied
 * twice.
 */
import { parentPort } from 'node:worker_threads';
import { analyseModel, mapForReference } from './analyze';
import { procrustesPair } from './procrustes';
import { sharedFloat64 } from './shared';
import type { WorkerReply, WorkerRequest } from './runAnalysis';

const port = parentPort;
if (!port) throw new Error('analysisWorker.js must run in a worker thread');

port.on('message', (request: WorkerRequest) => void handle(request));

async function handle(request: WorkerRequest): Promise<void> {
  try {
    if (request.type === 'model') {
      const stage = await analyseModel(request.bundle, 0, request.k);
      reply({
        id: request.id,
        type: 'model',
        scores: inSharedMemory(stage.scores),
        explainedVarianceRatio: stage.explainedVarianceRatio,
        displacement: stage.displacement,
      });
    } else if (request.type === 'pair') {
      const pair = await procrustesPair(request.source, request.target, request.n, request.k);
      reply({ id: request.id, type: 'pair', rotation: inSharedMemory(pair.q), sigmaSum: pair.sigmaSum });
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

/** A copy of `a` in shared memory: posted back, it is shared with the caller and the other worker, not copied. */
function inSharedMemory(a: Float64Array): Float64Array {
  const shared = sharedFloat64(a.length);
  shared.set(a);
  return shared;
}

function reply(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}
