/**
 * Content negotiation for bodies: requests in protobuf are decoded to JSON text for the rest of the
 * server; answers are protobuf when the client's Accept lists protobuf before JSON (as client-go's
 * typed clients do: `application/vnd.kubernetes.protobuf, application/json`) and the kind has a
 * table, else JSON (which those clients accept too).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../status.js';
import { decodeProtobufBody, encodeProtobufBody, hasProtobuf, PROTOBUF, ProtobufError } from './codec.js';

export function isProtobufRequest(req: IncomingMessage): boolean {
  return String(req.headers['content-type'] ?? '').split(';')[0]?.trim() === PROTOBUF;
}

/** The request body as JSON text (protobuf bodies decoded; 415 for kinds without a table, 400 for bad bytes). */
export function bodyText(req: IncomingMessage, raw: Buffer): string {
  if (!isProtobufRequest(req)) return raw.toString('utf8');
  try {
    return JSON.stringify(decodeProtobufBody(raw));
  } catch (error) {
    if (error instanceof ProtobufError && /not served as protobuf/.test(error.message)) {
      throw new ApiError(415, 'UnsupportedMediaType', `${error.message}; send application/json`);
    }
    throw new ApiError(400, 'BadRequest', `the protobuf body could not be decoded: ${(error as Error).message}`);
  }
}

/** Whether the first media type in Accept that this server can produce is protobuf. */
export function prefersProtobuf(req: IncomingMessage): boolean {
  for (const mediaType of String(req.headers.accept ?? '').split(',')) {
    const [essence = '', ...parameters] = mediaType.split(';').map((part) => part.trim());
    if (parameters.some((parameter) => parameter.startsWith('as='))) return false; // Table and other conversions are JSON here
    if (essence === PROTOBUF) return true;
    if (essence === 'application/json' || essence === '*/*' || essence === 'application/*') return false;
  }
  return false;
}

export function send(req: IncomingMessage, res: ServerResponse, code: number, body: unknown): void {
  const object = body as { apiVersion?: string; kind?: string };
  if (prefersProtobuf(req) && typeof object?.apiVersion === 'string' && typeof object.kind === 'string' && hasProtobuf(object.apiVersion, object.kind)) {
    try {
      const encoded = encodeProtobufBody(object as Record<string, unknown>);
      res.writeHead(code, { 'content-type': PROTOBUF, 'content-length': encoded.length });
      res.end(encoded);
      return;
    } catch (error) {
      if (!(error instanceof ProtobufError)) throw error;
      // A field the tables lack: JSON, which the client accepts too, rather than a body missing it.
    }
  }
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
