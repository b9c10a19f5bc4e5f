/** A loopback HTTP proxy in front of the test API server that records every request the client makes, and may answer some itself. */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  watch: boolean;
}

export interface RecordingProxy {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** An answer the proxy gives itself instead of forwarding the request. */
export interface ProxyAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** `answer`: called for each recorded request; what it returns is answered instead of forwarding. */
export async function startRecordingProxy(target: string, answer: (request: RecordedRequest) => ProxyAnswer | undefined = () => undefined): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const recorded = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, watch: url.searchParams.get('watch') === 'true' };
    requests.push(recorded);
    const own = answer(recorded);
    if (own !== undefined) {
      req.resume();
      res.writeHead(own.status, { ...own.headers, 'content-length': Buffer.byteLength(own.body) }).end(own.body);
      return;
    }
    const forwarded = request({
      host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent: false,
    }, (upstreamAnswer) => {
      res.writeHead(upstreamAnswer.statusCode ?? 502, upstreamAnswer.headers);
      res.flushHeaders(); // a watch answers with headers first and events much later
      upstreamAnswer.pipe(res);
    });
    forwarded.on('error', () => res.destroy());
    res.on('close', () => forwarded.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
