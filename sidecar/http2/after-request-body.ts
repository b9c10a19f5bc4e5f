/**
 * The sidecar's own answer to a stream waits for the end of a request that declared a small body.
 * Answering before the request's end is valid HTTP/2 (RFC 9113 §8.1), but curl 7.88 — the
 * README's gRPC client, Debian 12's curl — then stalls its own upload and never completes (also
 * against a bare node:http2 server, whether or not the server resets the stream with NO_ERROR
 * after its answer), while waiting for a few bytes already on their way costs nothing. A body of
 * unknown length (gRPC clients send none: a call may stream for hours) or above SMALL_BODY, or
 * one still short of its end after WAIT_MS, is answered at once, so no answer is held for long.
 */
import type { ServerHttp2Stream } from 'node:http2';

const SMALL_BODY = 64 * 1024;
const WAIT_MS = 1_000;

export function afterSmallRequestBody(stream: ServerHttp2Stream, contentLength: string | undefined, answer: () => void): void {
  const declared = contentLength === undefined ? Number.NaN : Number(contentLength);
  if (stream.readableEnded || stream.destroyed || !(declared <= SMALL_BODY)) {
    answer();
    return;
  }
  let answered = false;
  const once = (): void => {
    if (answered) return;
    answered = true;
    clearTimeout(timer);
    stream.off('end', once);
    stream.off('close', once);
    answer();
  };
  const timer = setTimeout(once, WAIT_MS);
  timer.unref();
  stream.once('end', once);
  stream.once('close', once);
  stream.resume(); // read (and drop) the body to its end
}
