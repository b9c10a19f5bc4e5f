/**
 * The floor row of `npm run bench:http2`: what Node's own nghttp2 binding reaches as an h2c proxy,
 * with none of the sidecar's work (no header hygiene, admission, breaker, metrics, timeouts or
 * error answers). One node:http2 server session per client connection, one h2c session to the
 * app; each stream becomes one app request, bodies piped both ways, the app's trailers passed on.
 * Bench-only code. Usage: node bench/h2-floor-proxy.ts PORT APP_ORIGIN
 */
import { connect, constants, createServer, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';

const [port, origin] = process.argv.slice(2) as [string, string];
/** The one app session, opened again only when the app has closed it. */
const openApp = (): ClientHttp2Session => connect(origin).on('error', () => undefined);
let app = openApp();

const server = createServer();
server.on('stream', (stream, headers) => {
  if (app.closed || app.destroyed) app = openApp();
  const request = app.request(headers, { endStream: stream.endAfterHeaders });
  let trailers: IncomingHttpHeaders = {};
  request.on('response', (head, flags) => {
    if (stream.destroyed) return;
    stream.respond(head, (flags & constants.NGHTTP2_FLAG_END_STREAM) === 0 ? { waitForTrailers: true } : { endStream: true });
    request.pipe(stream);
  });
  request.on('trailers', (received) => { trailers = received; });
  stream.on('wantTrailers', () => stream.sendTrailers(trailers));
  if (!stream.endAfterHeaders) stream.pipe(request);
  stream.on('error', () => request.close(constants.NGHTTP2_CANCEL));
  request.on('error', () => stream.close(constants.NGHTTP2_INTERNAL_ERROR));
});
server.listen(Number(port), '127.0.0.1');
