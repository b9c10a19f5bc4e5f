import { afterEach, describe, expect, it } from '@jest/globals';
import { request } from 'undici';
import { accepts, ErrorPages, escapeHtml } from '../../sidecar/error-pages.js';
import { closedPort } from '../support/faulty-upstream.js';
import { sidecarConfig, startSidecar, type Harness } from '../support/sidecar-harness.js';

let sidecar: Harness | undefined;
afterEach(async () => {
  await sidecar?.close();
  sidecar = undefined;
});

const noTrip = { circuitBreaker: { volumeThreshold: 1000 } };

async function failWith(headers: Record<string, string>, config: unknown = noTrip) {
  sidecar = await startSidecar(`http://127.0.0.1:${await closedPort()}`, config);
  const response = await request(sidecar.url, { headers });
  return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
}

describe('content negotiation', () => {
  it('serves HTML to browsers', async () => {
    const response = await failWith({ accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).toContain('<h1>502 Bad Gateway</h1>');
    expect(response.body).toContain(String(response.headers['x-request-id']));
  });

  it('serves RFC 9457 problem details to API clients', async () => {
    const response = await failWith({ accept: 'application/json' });
    expect(response.headers['content-type']).toBe('application/problem+json');
    const problem = JSON.parse(response.body);
    expect(problem).toEqual({
      type: 'https://badgateway.io/errors/connect-failed',
      title: 'Bad Gateway',
      status: 502,
      detail: expect.any(String),
      reason: 'connect-failed',
      requestId: response.headers['x-request-id'],
    });
  });

  it('serves plain text otherwise', async () => {
    const response = await failWith({ accept: '*/*' });
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(response.body).toMatch(/^502 Bad Gateway: .*reason: connect-failed/);
  });

  it("serves the policy's page for the status, with variables substituted", async () => {
    const response = await failWith({ accept: 'text/html', 'x-request-id': 'req-42' }, {
      ...noTrip,
      errorPages: [{ status: 502, body: '<h1>Back soon</h1><p>{{ requestId }} {{status}} {{reason}}</p>' }],
    });
    expect(response.headers['content-type']).toBe('text/html');
    expect(response.body).toBe('<h1>Back soon</h1><p>req-42 502 connect-failed</p>');
  });

  it("skips a policy page the client does not accept", async () => {
    const response = await failWith({ accept: 'application/json' }, { ...noTrip, errorPages: [{ status: 502, body: '<h1>x</h1>' }] });
    expect(response.headers['content-type']).toBe('application/problem+json');
  });

  it('HTML-escapes template variables (no XSS through x-request-id)', async () => {
    const response = await failWith({ accept: 'text/html', 'x-request-id': '<script>alert(1)</script>' }, {
      ...noTrip,
      errorPages: [{ status: 502, body: '<p>{{requestId}}</p>' }],
    });
    expect(response.body).toBe('<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>');
  });
});

describe('accepts', () => {
  it.each([
    [undefined, 'text/html', true],
    ['text/html', 'text/html', true],
    ['text/*', 'text/html', true],
    ['*/*', 'application/json', true],
    ['application/json', 'text/html', false],
    ['text/html;q=0', 'text/html', false],
    ['text/html;q=0.5', 'text/html', true],
  ])('accept %p, type %p → %p', (accept, type, expected) => {
    expect(accepts(accept, type)).toBe(expected);
  });

  it('escapes the five HTML specials', () => {
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });

  it('renders the built-in page for 503 and 504 with their own titles', () => {
    const pages = new ErrorPages(sidecarConfig({}));
    expect(pages.render(504, 'timeout', 'id', 'text/html').body).toContain('504 Gateway Timeout');
    expect(pages.render(503, 'circuit-open', 'id', 'application/json').body).toContain('"title":"Service Unavailable"');
  });
});
