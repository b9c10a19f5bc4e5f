/**
 * The soak's clients: each connection plays one script — valid requests mixed with every hostile
 * input of the conformance client-side table, slow bodies, resets mid-request and mid-response.
 * Every connection is bounded in time; each reply is tallied by its first status (or how it ended).
 */
import { connect } from 'node:net';

const REPLY_LIMIT_MS = 3_000;
/** A reply is taken as whole once the proxy has been quiet this long after a response head. */
const QUIET_MS = 150;

interface ClientScript {
  name: string;
  /** Pieces written in order, `pauseMs` apart. */
  pieces: string[];
  pauseMs?: number;
  /** Reset the connection this long after the last piece instead of reading the whole reply. */
  resetAfterMs?: number;
}

const GET = 'GET /items HTTP/1.1\r\nhost: app.example\r\n\r\n';

export const CLIENT_SCRIPTS: readonly ClientScript[] = [
  { name: 'get', pieces: [GET] },
  { name: 'pipelined', pieces: [GET + GET + 'HEAD /items HTTP/1.1\r\nhost: app.example\r\n\r\n'] },
  { name: 'post', pieces: ['POST /items HTTP/1.1\r\nhost: app.example\r\ncontent-length: 5\r\n\r\nhello'] },
  { name: 'chunked-post', pieces: ['POST /items HTTP/1.1\r\nhost: app.example\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'] },
  { name: 'expect', pieces: ['PUT /items HTTP/1.1\r\nhost: app.example\r\nexpect: 100-continue\r\ncontent-length: 5\r\n\r\n', 'hello'], pauseMs: 50 },
  { name: 'garbage', pieces: ['HELLO\r\n\r\n'] },
  { name: 'cl-te', pieces: ['POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nhost: x\r\n\r\n'] },
  { name: 'obs-fold', pieces: ['GET / HTTP/1.1\r\nhost: x\r\nx-a: 1\r\n  folded\r\n\r\n'] },
  { name: 'no-host', pieces: ['GET / HTTP/1.1\r\nx-a: 1\r\n\r\n'] },
  { name: 'two-hosts', pieces: ['GET / HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n'] },
  { name: 'gzip-chunked', pieces: ['POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip, chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n'] },
  { name: 'bad-chunk', pieces: ['POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n'] },
  { name: 'oversized-head', pieces: [`GET / HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20 * 1024)}\r\n\r\n`] },
  { name: 'absolute-form', pieces: ['GET http://other.example/a HTTP/1.1\r\nhost: x\r\n\r\n'] },
  { name: 'asterisk', pieces: ['OPTIONS * HTTP/1.1\r\nhost: x\r\n\r\n'] },
  { name: 'bad-expect', pieces: ['GET / HTTP/1.1\r\nhost: x\r\nexpect: nothing\r\n\r\n'] },
  { name: 'upgrade', pieces: ['GET /ws HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n', GET], pauseMs: 100 },
  { name: 'slow-body', pieces: ['POST /items HTTP/1.1\r\nhost: app.example\r\ncontent-length: 10\r\n\r\nabc'] },
  { name: 'partial-head-reset', pieces: ['GET /items HTTP/1.1\r\nhost: app'], resetAfterMs: 20 },
  { name: 'reset-mid-body', pieces: ['POST /items HTTP/1.1\r\nhost: app.example\r\ncontent-length: 10\r\n\r\nabc'], resetAfterMs: 20 },
  { name: 'reset-waiting', pieces: [GET], resetAfterMs: 1 },
];

/** How a connection ended: the first status line's code, or "empty" (closed without a byte), "reset", "timeout". */
export type Ending = string;

export function playClient(port: number, script: ClientScript): Promise<Ending> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let settled = false;
    let quiet: NodeJS.Timeout | undefined;
    const finish = (ending: Ending) => {
      if (settled) return;
      settled = true;
      clearTimeout(limit);
      clearTimeout(quiet);
      socket.destroy();
      resolve(ending);
    };
    const limit = setTimeout(() => finish(received === '' ? 'timeout' : statusOf(received)), REPLY_LIMIT_MS);
    socket.on('data', (data: Buffer) => {
      received += data.toString('latin1');
      clearTimeout(quiet);
      if (received.includes('\r\n\r\n')) quiet = setTimeout(() => finish(statusOf(received)), QUIET_MS);
    });
    socket.on('error', () => finish(received === '' ? 'reset' : statusOf(received)));
    socket.on('close', () => finish(received === '' ? 'empty' : statusOf(received)));
    const play = async (): Promise<void> => {
      for (const [index, piece] of script.pieces.entries()) {
        if (index > 0) await new Promise((wake) => setTimeout(wake, script.pauseMs ?? 0));
        if (socket.destroyed) return;
        socket.write(piece, 'latin1');
      }
      if (script.resetAfterMs !== undefined) {
        setTimeout(() => {
          if (settled) return;
          settled = true;
          clearTimeout(limit);
          socket.resetAndDestroy();
          resolve('client-reset');
        }, script.resetAfterMs);
      }
    };
    socket.on('connect', () => void play());
  });
}

/** The first final status (interim 1xx skipped), "<1xx>-only" when only interim ones came. */
function statusOf(received: string): Ending {
  const statuses = [...received.matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3})/g)].map((match) => match[1] as string);
  if (statuses.length === 0) return 'unparseable';
  return statuses.find((status) => !status.startsWith('1')) ?? `${statuses[0]}-only`;
}
