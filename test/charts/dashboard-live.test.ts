/* eslint-disable @typescript-eslint/no-explicit-any -- the dashboard and Prometheus' API answers are untyped JSON */
/**
 * The dashboard's sidecar queries against real metrics: a real Prometheus (Debian's `prometheus`
 * package; skipped with a printed reason without it) scrapes a real sidecar (the built CLI) in front
 * of a real app, labelled as the PodMonitor labels it; the app answers, then goes down until the
 * circuit opens; then every query of the sidecar rows must run without error and return series.
 * The values are printed (the panel list in docs/observability.md was read from such a run).
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { stringify } from 'yaml';
import { eventually, startCli } from '../support/cli.js';
import { closedPort, FaultyUpstream } from '../support/faulty-upstream.js';
import { renderChart } from '../support/helm.js';

const prometheusBinary = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
const missing = prometheusBinary.error === undefined ? undefined : 'prometheus not found (apt-get install prometheus)';
if (missing !== undefined) console.log(`live dashboard test skipped: ${missing}`);

const LABELS = { namespace: 'shop', deployment: 'web', policy: 'web', pod: 'web-7d9f-abcde' };
const stoppers: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const stop of stoppers.reverse()) await stop();
});

function panelsOf(): any[] {
  const configMap = renderChart(['--set', 'metrics.dashboard.enabled=true']).find((object) => object.kind === 'ConfigMap') as any;
  const flatten = (list: any[]): any[] => list.flatMap((panel) => [panel, ...flatten(panel.panels ?? [])]);
  return flatten(JSON.parse(configMap.data['badgateway.json']).panels).filter((panel) => panel.type !== 'row');
}

/** Grafana's variables, as a 1 s scrape interval and a one-minute range make them. */
const withVariables = (expression: string) => expression
  .replaceAll('$__rate_interval', '1m').replaceAll('$__range', '1m').replaceAll('$__interval', '1s')
  .replace(/\$(namespace|deployment|policy)\b/g, '.*');

async function query(prometheusUrl: string, expression: string): Promise<any> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expression)}`);
  return response.json();
}

describe('dashboard on real metrics', () => {
  const run = missing === undefined ? it : it.skip;

  run('every sidecar panel query returns series from a scraped sidecar whose app failed and circuit opened', async () => {
    const app = await new FaultyUpstream().start();
    stoppers.push(() => app.stop().catch(() => undefined));
    const dir = mkdtempSync(join(tmpdir(), 'bgw-live-'));
    writeFileSync(join(dir, 'policy.json'), JSON.stringify({ circuitBreaker: { volumeThreshold: 4, errorThresholdPercentage: 50, rollingWindow: '10s', resetTimeout: '60s' } }));
    const [proxyPort, adminPort, prometheusPort] = [await closedPort(), await closedPort(), await closedPort()];
    const sidecar = startCli(['sidecar', '--upstream', app.url, '--listen', `127.0.0.1:${proxyPort}`, '--admin', `127.0.0.1:${adminPort}`, '--config', join(dir, 'policy.json'), '--log-level', 'warn']);
    stoppers.push(() => { sidecar.child.kill('SIGKILL'); });
    writeFileSync(join(dir, 'prometheus.yml'), stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      scrape_configs: [{ job_name: 'badgateway-sidecars', static_configs: [{ targets: [`127.0.0.1:${adminPort}`], labels: LABELS }] }],
    }));
    const prometheus: ChildProcess = spawn('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`, '--log.level=warn',
    ], { stdio: 'ignore' });
    stoppers.push(() => { prometheus.kill('SIGKILL'); });
    const prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
    await eventually(async () => (await fetch(`http://127.0.0.1:${adminPort}/readyz`)).ok, 60_000, 'sidecar ready');
    await eventually(async () => (await fetch(`${prometheusUrl}/-/ready`)).ok, 60_000, 'prometheus ready');
    // Counters must be scraped before the traffic too: rate() sees no increase in a series whose
    // first sample already holds everything (a busy machine can delay the first scrape by seconds).
    await eventually(async () => (await query(prometheusUrl, 'badgateway_circuit_state')).data?.result?.length === 1, 60_000, 'first scrape of the sidecar');

    // Traffic spread over several scrapes, so counters rise between samples and rates are not 0.
    const sendFor = async (ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        await (await fetch(`http://127.0.0.1:${proxyPort}/`)).arrayBuffer();
        await delay(50);
      }
    };
    await sendFor(2_000);
    await app.stop();
    await sendFor(6_000); // connect-failed until the breaker opens, then circuit-open
    let last: unknown;
    await eventually(async () => {
      last = (await query(prometheusUrl, 'badgateway_circuit_state')).data?.result;
      return (last as any)?.[0]?.value?.[1] === '2';
    }, 60_000, () => `open circuit scraped (last: ${JSON.stringify(last)}; sidecar metrics: ${sidecar.output().slice(-300)})`);
    await delay(3_000); // a few more scrapes of the open circuit

    const rows: string[] = [];
    const problems: string[] = [];
    for (const panel of panelsOf().filter((candidate) => candidate.targets.every((target: any) => !target.expr.includes('badgateway_operator_')))) {
      for (const target of panel.targets) {
        const answer = await query(prometheusUrl, withVariables(target.expr));
        if (answer.status !== 'success') problems.push(`${panel.title}: ${answer.error}`);
        else if (answer.data.result.length === 0) problems.push(`${panel.title}: no series for ${target.expr}`);
        else rows.push(`${panel.title} [${target.legendFormat}]: ${answer.data.result.map((series: any) => `${JSON.stringify(series.metric)}=${series.value[1]}`).join(' ')}`);
      }
    }
    process.stdout.write(`dashboard on real metrics:\n${rows.join('\n')}\n`);
    expect(problems).toEqual([]);
    // What the panels show is what happened: one open circuit, the app's failures then the fast ones, real latencies.
    const values = async (title: string, index = 0) => {
      const answer = await query(prometheusUrl, withVariables(panelsOf().find((panel) => panel.title === title).targets[index].expr));
      return Object.fromEntries(answer.data.result.map((series: any) => [Object.values(series.metric).join(',') || 'value', Number(series.value[1])]));
    };
    expect(await values('Open circuits')).toEqual({ value: 1 });
    expect(await values('5xx/s by reason')).toEqual({ 'connect-failed': expect.any(Number), 'circuit-open': expect.any(Number) });
    for (const rate of Object.values(await values('5xx/s by reason'))) expect(rate).toBeGreaterThan(0);
    expect((await values('Circuit transitions')).open).toBeGreaterThan(0);
    expect((await values('Upstream latency', 2)).value).toBeGreaterThan(0);
  }, 240_000);
});
