/**
 * A minimal Hugging Face Hub mirror on 127.0.0.1 for tests: GET/HEAD /{owner}/{name}/resolve/{revision}/{file}
 * served from local model folders. Counts the files served (whole downloads, not range requests).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export interface HubMirror {
  url: string;
  served: string[];
  close(): Promise<void>;
}

export async function startHubMirror(repos: Record<string, string>): Promise<HubMirror> {
  const served: string[] = [];
  const server = http.createServer((req, res) => {
    const match = /^\/([^/]+\/[^/]+)\/resolve\/[^/]+\/(.+)$/.exec(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const folder = match ? repos[match[1]] : undefined;
    const file = folder ? path.join(folder, match![2]) : undefined;
    if (!file || !file.startsWith(folder! + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end('Entry not found');
      return;
    }
    const size = fs.statSync(file).size;
    // A range request (transformers.js reads sizes with `Range: bytes=0-0`) is answered as the Hub does, with
    // the bytes asked for, and is not counted as a download.
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = Math.min(range[2] ? Number(range[2]) : size - 1, size - 1);
      res.writeHead(206, { 'content-length': String(end - start + 1), 'content-range': `bytes ${start}-${end}/${size}` });
      fs.createReadStream(file, { start, end }).pipe(res);
      return;
    }
    res.writeHead(200, { 'content-length': String(size), 'content-type': 'application/octet-stream' });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    served.push(match![2]);
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    served,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
