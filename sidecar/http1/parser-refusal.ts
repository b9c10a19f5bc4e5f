/**
 * The status for a request the parser refused, as RFC 9110/9112 name them: llhttp frames only the
 * methods and versions in its tables, and refusing what it cannot frame is right — but a method or
 * version that is well-formed and merely unknown is not a bad request.
 *
 * - 414 a request target longer than the head limit (RFC 9112 §3);
 * - 431 any other head over the limit;
 * - 501 a well-formed method token llhttp does not know (`FROBNICATE`, `get`, RTSP-only methods):
 *   methods are extensible (RFC 9110 §9.1), and the sidecar cannot frame one it does not know;
 * - 505 a well-formed version `HTTP/d.d` other than 1.0, 1.1 (`HTTP/1.2`; RFC 9110 §6.2 allows
 *   answering 505, and llhttp cannot parse the rest as 1.1);
 * - 400 everything else.
 */
import type { HttpParser } from './llhttp.js';

/** llhttp's reasons for the two refusals above that its error codes share with real syntax errors. */
const UNKNOWN_VERSION = 'Invalid HTTP version';
const METHOD_OF_ANOTHER_PROTOCOL = 'Invalid method for HTTP/x.x request';

/** tchar (RFC 9110 §5.6.2): visible ASCII except delimiters. */
const TOKEN_CHARACTERS = new Uint8Array(128);
for (const character of '!#$%&\'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz') {
  TOKEN_CHARACTERS[character.charCodeAt(0)] = 1;
}

function isTokenCharacter(byte: number): boolean {
  return byte < 128 && TOKEN_CHARACTERS[byte] === 1;
}

/**
 * Whether the method llhttp stopped in is a token: the bytes it accepted were a known method's
 * prefix (tokens all), so the rest — from where it stopped to the space, or to the end of what has
 * arrived — decides.
 */
function isMethodToken(chunk: Buffer, stoppedAt: number): boolean {
  let index = stoppedAt;
  while (index < chunk.length && isTokenCharacter(chunk[index] as number)) index += 1;
  const started = index > stoppedAt || (stoppedAt > 0 && isTokenCharacter(chunk[stoppedAt - 1] as number));
  return started && (index === chunk.length || chunk[index] === 0x20);
}

export function parserRefusalStatus(parser: HttpParser, chunk: Buffer): number {
  switch (parser.errorCode) {
    case 'HPE_URI_OVERFLOW':
      return 414;
    case 'HPE_HEADER_OVERFLOW':
      return 431;
    case 'HPE_INVALID_METHOD':
      return isMethodToken(chunk, parser.consumed) ? 501 : 400;
    case 'HPE_INVALID_CONSTANT':
      return parser.errorReason === METHOD_OF_ANOTHER_PROTOCOL ? 501 : 400;
    case 'HPE_INVALID_VERSION':
      return parser.errorReason === UNKNOWN_VERSION ? 505 : 400;
    default:
      return 400;
  }
}
