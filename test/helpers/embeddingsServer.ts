/**
 * A real OpenAI-compatible embeddings server on 127.0.0.1 for tests: POST /v1/embeddings answered by a real
 * local model (any Embedder). Faults can be queued to make the next requests misbehave.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Embedder } from '../../src/models/embedder';

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'hang' }
  /** Status 200 and headers at once, then the body one byte a second. */
  | { kind: 'trickle' }
  /** A valid answer whose first value is 1e39: finite in JSON, too large for float32. */
  | { kind: 'huge' }
  | { kind: 'malformed' }
  | { kind: 'wrongDimension' }
  | { kind: 'wrongCount' }
  | { kind: 'reversed' };

export interface EmbeddingsServer {
  baseUrl: string;
  /** Faults applied to the next requests, one per request, in order. */
  faults: Fault[];
  requests: { model: string; inputs: number; authorization?: string; at: number }[];
  close(): Promise<void>;
}

export async function startEmbeddingsServer(embedder: Embedder): Promise<EmbeddingsServer> {
  const faults: Fault[] = [];
  const requests: EmbeddingsServer['requests'] = [];
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      void answer(req, res, body).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      });
    });
  });

  async function answer(req: http.IncomingMessage, res: http.ServerResponse, body: string): Promise<void> {
    if (req.method !== 'POST' || req.url !== '/v1/embeddings') {
      res.writeHead(404).end('not found');
      return;
    }
    const { model, input } = JSON.parse(body) as { model: string; input: string[] };
    requests.push({ model, inputs: input.length, authorization: req.headers.authorization, at: Date.now() });
    const fault = faults.shift();
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      res.writeHead(fault.status, headers).end(JSON.stringify({ error: { message: `fault ${fault.status}` } }));
      return;
    }
    if (fault?.kind === 'hang') {
      hanging.add(res);
      return;
    }
    if (fault?.kind === 'trickle') {
      hanging.add(res);
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), 1000);
      res.write(' ');
      return;
    }
    if (fault?.kind === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"data": [ {"index": 0, "embedding": [0.1,');
      return;
    }
    const vectors = await embedder.embed(input);
    let data = vectors.map((v, index) => ({ object: 'embedding', index, embedding: Array.from(v) }));
    if (fault?.kind === 'wrongDimension') data[data.length - 1].embedding.push(0.5);
    if (fault?.kind === 'wrongCount') data = data.slice(1);
    if (fault?.kind === 'reversed') data = data.reverse();
    if (fault?.kind === 'huge') data[0].embedding[0] = 1e39;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', model, data, usage: { prompt_tokens: 0, total_tokens: 0 } }));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    faults,
    requests,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
