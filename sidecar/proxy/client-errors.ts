/**
 * Requests Node's HTTP parser refuses before they reach the proxy: oversized heads (431),
 * smuggling attempts such as Content-Length with Transfer-Encoding, and other malformed requests
 * (400), slow heads (408). The socket is answered and closed; the server keeps serving.
 */
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Logger } from '../contracts.js';

const RESPONSES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

function statusForParserError(code: string | undefined): number {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

export function answerClientError(error: Error & { code?: string }, socket: Duplex, logger: Logger): void {
  if (!socket.writable || (socket as { _httpMessage?: unknown })._httpMessage) {
    socket.destroy();
    return;
  }
  const status = statusForParserError(error.code);
  const requestId = randomUUID();
  const body = `${status} ${RESPONSES[status]}\n`;
  socket.end(`HTTP/1.1 ${status} ${RESPONSES[status]}\r\ncontent-type: text/plain; charset=utf-8\r\n`
    + `content-length: ${body.length}\r\nx-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`);
  logger.warn({ status, code: error.code, requestId }, 'rejected malformed request');
}
