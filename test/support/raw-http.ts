/**
 * A tiny, test-only HTTP/1.x message reader over raw bytes: start line, fields, and the body framed
 * by Content-Length, chunked or the end of the connection. Lenient on purpose (it reads what a
 * proxy sent so a test can judge it); it never decides what is valid.
 */

export interface RawMessage {
  startLine: string;
  /** Status code of a response; NaN when the status line does not parse. */
  status: number;
  method: string;
  target: string;
  version: string;
  /** Fields in order as [name, value], names as sent. */
  fields: [string, string][];
  body: Buffer;
  /** Whether the whole head (up to the empty line) arrived. */
  headComplete: boolean;
  /** Whether the body ended where its framing said it would. */
  complete: boolean;
}

/** Every value of a field (case-insensitive name). */
export function fieldValues(message: RawMessage, name: string): string[] {
  const lower = name.toLowerCase();
  return message.fields.filter(([field]) => field.toLowerCase() === lower).map(([, value]) => value);
}

/** The single value of a field, the values joined with ", " when repeated, or undefined. */
export function field(message: RawMessage, name: string): string | undefined {
  const values = fieldValues(message, name);
  return values.length === 0 ? undefined : values.join(', ');
}

const HEAD_END = Buffer.from('\r\n\r\n');

function parseHead(head: string): Omit<RawMessage, 'body' | 'complete' | 'headComplete'> {
  const lines = head.split('\r\n');
  const startLine = lines[0] ?? '';
  const fields: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  const parts = startLine.split(' ');
  const isResponse = startLine.startsWith('HTTP/');
  return {
    startLine,
    status: isResponse ? Number.parseInt(parts[1] ?? '', 10) : Number.NaN,
    method: isResponse ? '' : (parts[0] ?? ''),
    target: isResponse ? '' : (parts[1] ?? ''),
    version: isResponse ? (parts[0] ?? '') : (parts[2] ?? ''),
    fields,
  };
}

/** Decodes a chunked body from `data`; `end` is the offset after the last chunk, or -1 if incomplete. */
function readChunked(data: Buffer): { body: Buffer; end: number } {
  const pieces: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset, 'latin1');
    if (lineEnd < 0) return { body: Buffer.concat(pieces), end: -1 };
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString('latin1').split(';')[0] ?? '', 16);
    if (Number.isNaN(size)) return { body: Buffer.concat(pieces), end: -1 };
    if (size === 0) {
      // The last chunk's line end doubles as the start of the empty line when there are no trailers.
      const trailerEnd = data.indexOf('\r\n\r\n', lineEnd, 'latin1');
      return { body: Buffer.concat(pieces), end: trailerEnd < 0 ? -1 : trailerEnd + 4 };
    }
    const start = lineEnd + 2;
    pieces.push(data.subarray(start, Math.min(start + size, data.length)));
    if (start + size + 2 > data.length) return { body: Buffer.concat(pieces), end: -1 };
    offset = start + size + 2;
  }
}

export interface ReadOptions {
  kind: 'request' | 'response';
  /** Whether the byte stream has ended (a close-delimited body is then complete). */
  ended: boolean;
  /** For responses: the methods of the requests, in order, so HEAD responses have no body. */
  requestMethods?: readonly string[];
}

/**
 * Reads as many messages as the bytes hold. A response body with no framing runs to the end of
 * the stream; an incomplete last message is returned with complete: false.
 */
export function readMessages(data: Buffer, options: ReadOptions): RawMessage[] {
  const messages: RawMessage[] = [];
  let offset = 0;
  let finals = 0;
  while (offset < data.length) {
    const headEnd = data.indexOf(HEAD_END, offset);
    if (headEnd < 0) {
      messages.push({ ...parseHead(data.subarray(offset).toString('latin1')), body: Buffer.alloc(0), headComplete: false, complete: false });
      break;
    }
    const head = { ...parseHead(data.subarray(offset, headEnd).toString('latin1')), headComplete: true };
    const rest = data.subarray(headEnd + 4);
    const headOnly = { ...head, body: Buffer.alloc(0), complete: true };
    const length = fieldValues(headOnly, 'content-length');
    const chunked = /chunked\s*$/i.test(fieldValues(headOnly, 'transfer-encoding').join(','));
    const isResponse = options.kind === 'response';
    const interim = isResponse && head.status >= 100 && head.status < 200;
    const bodyless = isResponse && (interim || head.status === 204 || head.status === 304
      || options.requestMethods?.[finals] === 'HEAD');
    if (isResponse && !interim) finals += 1;
    if (bodyless) {
      messages.push({ ...head, body: Buffer.alloc(0), complete: true });
      offset = headEnd + 4;
      if (head.status === 101) {
        // Tunnel bytes follow: they belong to no HTTP message.
        messages.push({ startLine: '', status: Number.NaN, method: '', target: '', version: '', fields: [], body: data.subarray(offset), headComplete: false, complete: options.ended });
        break;
      }
      continue;
    }
    if (chunked) {
      const { body, end } = readChunked(rest);
      messages.push({ ...head, body, complete: end >= 0 });
      if (end < 0) break;
      offset = headEnd + 4 + end;
    } else if (length.length > 0) {
      const size = Number.parseInt(length[0] ?? '', 10);
      const body = rest.subarray(0, size);
      messages.push({ ...head, body, complete: body.length === size });
      if (body.length < size) break;
      offset = headEnd + 4 + size;
    } else if (isResponse) {
      messages.push({ ...head, body: rest, complete: options.ended });
      break;
    } else {
      messages.push({ ...head, body: Buffer.alloc(0), complete: true });
      offset = headEnd + 4;
    }
  }
  return messages;
}
