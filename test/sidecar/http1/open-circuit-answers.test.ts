import { describe, expect, it } from '@jest/globals';
import { ErrorPages, rawErrorResponse } from '../../../sidecar/error-pages.js';
import { OpenCircuitAnswers } from '../../../sidecar/http1/answers.js';
import { sidecarConfig } from '../../support/sidecar-harness.js';

const config = sidecarConfig({
  errorPages: [{ status: 502, contentType: 'text/x-custom', body: 'down {{requestId}} / {{ requestId }} ünïcode' }],
});
const pages = new ErrorPages(config);

describe('open-circuit answers with the request id spliced in', () => {
  const accepts = [undefined, 'text/html', 'application/json', 'text/plain', 'text/x-custom', '*/*;q=0'];
  const ids = ['a', 'req-123', '0f8fad5b-d9cb-469f-a165-70867728950e', '<x>&"'];
  for (const accept of accepts) {
    it(`equals the rendered response for Accept ${String(accept)}, for every id length, cached or not`, () => {
      const answers = new OpenCircuitAnswers(pages, 502);
      for (const requestId of ids) {
        for (const close of [false, true]) {
          for (const [head, safe] of [[false, false], [false, true], [true, true]] as const) {
            const expected = rawErrorResponse(pages, accept, {
              status: 502, reason: 'circuit-open', proxyError: 'destination_unavailable', requestId, retryAfterSeconds: 7, close, safe,
            }, head);
            expect(answers.answer(requestId, undefined, accept, 7, close, head, safe)).toBe(expected);
          }
        }
      }
    });
  }
});
