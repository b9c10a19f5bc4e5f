/** Runs the real helm binary against charts/badgateway and parses what it renders. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from './cli.js';
import { helmPath } from './tools.js';

export const chartDir = join(repoRoot, 'charts', 'badgateway');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export function helm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(helmPath(), args, { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function renderChart(extraArgs: string[] = [], release = 'bgw', namespace = 'badgateway-system'): K8sObject[] {
  const result = helm(['template', release, chartDir, '-n', namespace, '--include-crds', ...extraArgs]);
  if (result.status !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return parseAllDocuments(result.stdout).map((document) => document.toJS() as K8sObject).filter((object) => object !== null);
}
