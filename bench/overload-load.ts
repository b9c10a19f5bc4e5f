/**
 * The overload scenario's load, in its own process: an open loop — RATE requests per second for
 * SECONDS, each sent on schedule whether or not earlier ones were answered, as independent users
 * arrive — so "4× capacity" is four times the requests the app can serve. A request unanswered
 * after TIMEOUT_MS is abandoned (the user gives up; its connection closes). Prints one JSON line:
 * counts and the latencies of the 2xx only. With RATE `closed:N`, N clients each send their next
 * request when the previous one is answered instead (how the app's capacity is measured).
 * Usage: node bench/overload-load.ts URL RATE|closed:N SECONDS TIMEOUT_MS
 */
import { Agent, request } from 'undici';

const [url, rateText, secondsText, timeoutText] = process.argv.slice(2) as [string, string, string, string];
const closedClients = rateText.startsWith('closed:') ? Number(rateText.slice('closed:'.length)) : 0;
const rate = closedClients > 0 ? 0 : Number(rateText);
const timeoutMs = Number(timeoutText);
/** Outstanding requests beyond this are not sent (counted as `notSent`): a bound on sockets. */
const MAX_OUTSTANDING = 4000;
const TICK_MS = 5;
const agent = new Agent({ connections: MAX_OUTSTANDING, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, keepAliveTimeout: 10_000 });
const okLatencies: number[] = [];
let sent = 0;
let outstanding = 0;
let shed = 0;
let otherStatus = 0;
let timedOut = 0;
let errors = 0;
let notSent = 0;

async function one(): Promise<void> {
  const started = performance.now();
  try {
    const response = await request(url, { dispatcher: agent, signal: AbortSignal.timeout(timeoutMs) });
    await response.body.dump();
    if (response.statusCode >= 200 && response.statusCode < 300) okLatencies.push(performance.now() - started);
    else if (response.statusCode === 503) shed += 1;
    else otherStatus += 1;
  } catch (error) {
    if ((error as Error).name === 'TimeoutError' || (error as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT') timedOut += 1;
    else errors += 1;
  } finally {
    outstanding -= 1;
  }
}

const started = performance.now();
const durationMs = Number(secondsText) * 1000;
async function closedLoop(): Promise<void> {
  while (performance.now() - started < durationMs) {
    sent += 1;
    outstanding += 1;
    await one();
  }
}
if (closedClients > 0) await Promise.all(Array.from({ length: closedClients }, closedLoop));
else await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    const elapsed = Math.min(performance.now() - started, durationMs);
    for (const due = Math.floor((elapsed * rate) / 1000); sent < due; sent += 1) {
      if (outstanding >= MAX_OUTSTANDING) {
        notSent += 1;
        continue;
      }
      outstanding += 1;
      void one();
    }
    if (elapsed >= durationMs) {
      clearInterval(timer);
      resolve();
    }
  }, TICK_MS);
});
const seconds = (performance.now() - started) / 1000;
// Answers still on their way count; nothing outlives its timeout.
while (outstanding > 0) await new Promise((resolve) => setTimeout(resolve, 10));
okLatencies.sort((a, b) => a - b);
const at = (p: number) => (okLatencies.length === 0 ? NaN : okLatencies[Math.min(okLatencies.length - 1, Math.floor((p / 100) * okLatencies.length))] as number);
process.stdout.write(`${JSON.stringify({ seconds, sent: sent - notSent, ok: okLatencies.length, shed, otherStatus, timedOut, errors, notSent, p50: at(50), p99: at(99) })}\n`);
await agent.destroy();
process.exit(0);
