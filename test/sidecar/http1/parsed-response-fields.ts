/** The real parser's fields of a response head, fed in reads of `step` bytes: what the sidecar reads an app's head into. */
import { expect } from '@jest/globals';
import type { HeaderFields } from '../../../sidecar/http1/head-fields.js';
import { HEAD_NO_BODY, HttpParser, RESPONSE } from '../../../sidecar/http1/llhttp.js';

/** Runs `check` on the fields of `HTTP/1.1 200 OK` with `fieldLines` (each with its CRLF), while they are valid. */
export function withParsedResponseFields(fieldLines: string, step: number, check: (fields: HeaderFields) => void): void {
  const head = Buffer.from(`HTTP/1.1 200 OK\r\n${fieldLines}\r\n`, 'latin1');
  let checked = false;
  const parser = new HttpParser(RESPONSE, {
    onHead: (parsed) => {
      check(parsed.fields);
      checked = true;
      return HEAD_NO_BODY;
    },
    onBody: () => undefined,
    onMessageComplete: () => 0,
  }, 16_384);
  for (let at = 0; at < head.length; at += step) parser.execute(head.subarray(at, at + step));
  parser.close();
  expect(checked).toBe(true);
}
