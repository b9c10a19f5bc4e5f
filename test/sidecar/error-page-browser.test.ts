/**
 * The default error pages as a person sees them: rendered by headless Chromium (Debian's
 * `chromium`) from a real sidecar at a phone's and a desktop's width. The text is there and
 * readable (dark on light, inside the viewport with a margin: nothing runs off the edge, not even a
 * long request id), and an open circuit's page to a GET carries its meta refresh. Skipped with one
 * printed line where chromium is not installed (README: apt-get install chromium).
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { closedPort } from '../support/faulty-upstream.js';
import { decodePng, type Grey } from '../support/png.js';
import { rawExchange } from '../support/raw-client.js';
import { sidecarFixtures } from '../support/sidecar-harness.js';
import { CONFORMANCE_POLICY } from './conformance/conformance.js';

const run = promisify(execFile);
const chromium = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).stdout.trim();
const available = chromium !== '';
if (!available) console.log('error page browser test SKIPPED: chromium is not installed (apt-get install -y chromium); see README');

const SIZES = { phone: [390, 844], desktop: [1280, 800] } as const;
const LONG_ID = `req-${'0123456789abcdef'.repeat(6)}`;
const fixtures = sidecarFixtures();
const folder = mkdtempSync(join(tmpdir(), 'error-page-browser-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

let runs = 0;
/** One headless Chromium run with a fresh profile; `extra` chooses what it outputs. */
async function chromiumRun(url: string, [width, height]: readonly [number, number], extra: string[]): Promise<string> {
  runs += 1;
  const { stdout } = await run(chromium, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--hide-scrollbars', `--user-data-dir=${join(folder, `profile-${runs}`)}`,
    `--window-size=${width},${height}`, ...extra, url,
  ], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

async function screenshot(url: string, size: readonly [number, number]): Promise<Grey> {
  const file = join(folder, `shot-${runs + 1}.png`);
  await chromiumRun(url, size, [`--screenshot=${file}`]);
  return decodePng(readFileSync(file));
}

/** Columns and rows that hold dark (text) pixels, on a light page. */
function ink(image: Grey): { pixels: number; left: number; right: number; top: number; bottom: number; background: number } {
  let [pixels, left, right, top, bottom] = [0, image.width, -1, image.height, -1];
  for (let y = 0; y < image.height; y += 1) {
    for (let x = 0; x < image.width; x += 1) {
      if (image.at(x, y) >= 128) continue;
      pixels += 1;
      [left, right, top, bottom] = [Math.min(left, x), Math.max(right, x), Math.min(top, y), Math.max(bottom, y)];
    }
  }
  return { pixels, left, right, top, bottom, background: image.at(0, 0) };
}

/** A sidecar whose app is down; `open` first opens its circuit. */
async function sidecarUrl(open: boolean): Promise<string> {
  const sidecar = await fixtures.sidecar(`http://127.0.0.1:${await closedPort()}`, open ? CONFORMANCE_POLICY : {});
  if (open) {
    for (let index = 0; index < 2; index += 1) await rawExchange(sidecar.address.port, 'GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    expect(sidecar.proxy.breakerState()).toBe('open');
  }
  return `http://127.0.0.1:${sidecar.address.port}/`;
}

(available ? describe : describe.skip)('the default error pages in headless Chromium', () => {
  it('502 connect-failed and the open circuit\'s page: the text in the DOM, the refresh on the open circuit\'s', async () => {
    const failed = await chromiumRun(await sidecarUrl(false), SIZES.desktop, ['--dump-dom']);
    expect(failed).toContain('<h1>502 Bad Gateway</h1>');
    expect(failed).toContain('The application did not accept the connection.');
    expect(failed).not.toContain('http-equiv="refresh"');
    const open = await chromiumRun(await sidecarUrl(true), SIZES.desktop, ['--dump-dom']);
    expect(open).toContain('The application is failing; requests are paused for a moment to let it recover.');
    expect(open).toMatch(/<meta http-equiv="refresh" content="\d+">/);
    expect(open).toMatch(/This page tries again by itself in \d+ seconds?\./);
  }, 120_000);

  it.each(Object.entries(SIZES))('at %s width: dark text on a light page, inside the viewport with a margin, even a long request id', async (_name, size) => {
    // The request id comes from the client's x-request-id when it sends one; a browser does not, so the page is fetched as a file.
    const url = await sidecarUrl(false);
    const body = await (await fetch(url, { headers: { accept: 'text/html', 'x-request-id': LONG_ID } })).text();
    expect(body).toContain(LONG_ID);
    const file = join(folder, `page-${size[0]}.html`);
    writeFileSync(file, body);
    const image = await screenshot(`file://${file}`, size);
    expect([image.width, image.height]).toEqual([...size]);
    const seen = ink(image);
    expect(seen.background).toBeGreaterThan(200); // a light page
    expect(seen.pixels).toBeGreaterThan(2_000); // a heading and paragraphs, not a blank page
    expect(seen.left).toBeGreaterThanOrEqual(8); // nothing touches or runs past either edge
    expect(seen.right).toBeLessThanOrEqual(size[0] - 8);
    expect(seen.bottom).toBeLessThan(size[1]); // the whole text fits the first screen
  }, 120_000);
});
