/**
 * The overload scenario's app, in its own process: every request is answered after the latency
 * the load model gives for the requests in progress at its arrival (sidecar/demo/load-latency.ts).
 * Usage: node bench/overload-app.ts PORT CAPACITY SERVICE_MS DEGRADATION
 */
import { createServer } from 'node:http';
import { latencyAt } from '../sidecar/demo/load-latency.ts';

const [port, capacity, serviceMs, degradation] = process.argv.slice(2).map(Number) as [number, number, number, number];
const model = { capacity, serviceMs, degradation };
let inFlight = 0;

createServer((_req, res) => {
  inFlight += 1;
  const timer = setTimeout(() => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '3' });
    res.end('ok\n');
  }, latencyAt(model, inFlight));
  // Answered, or the client went away (which stops costing the app, as a cancelled request would).
  res.once('close', () => {
    inFlight -= 1;
    clearTimeout(timer);
  });
}).listen({ port, host: '127.0.0.1', backlog: 4096 });
