/** charts/badgateway/README.md names the webhook Secret as the chart renders it, for every form of release name it gives. */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/cli.js';
import { renderChart } from '../support/helm.js';

const readme = readFileSync(join(repoRoot, 'charts', 'badgateway', 'README.md'), 'utf8');

function renderedSecret(release: string): string {
  const deployment = renderChart([], release).find((object) => object.kind === 'Deployment') as unknown as { spec: { template: { spec: { containers: { args: string[] }[] } } } };
  return deployment.spec.template.spec.containers[0]!.args.find((arg) => arg.startsWith('--webhook-secret='))!.split('=')[1] as string;
}

describe('the chart README', () => {
  it('names the webhook Secret as rendered, one way', () => {
    const named = [...readme.matchAll(/`([<>a-z-]*webhook-tls)`/g)].map((match) => match[1]);
    expect([...new Set(named)].sort()).toEqual(['<release>-badgateway-webhook-tls', '<release>-webhook-tls', 'badgateway-webhook-tls']);
    expect(renderedSecret('badgateway')).toBe('badgateway-webhook-tls');
    expect(renderedSecret('shop')).toBe('shop-badgateway-webhook-tls');
    expect(renderedSecret('my-badgateway')).toBe('my-badgateway-webhook-tls');
    expect(readme).toContain('`badgateway-webhook-tls` for the release `badgateway`');
  });
});
