import { describe, expect, it } from '@jest/globals';
import { columnsFor, humanDuration, jsonPathValues } from '../support/apiserver/printer-columns.js';
import { BUILTIN_RESOURCES, resourcesFromCrd } from '../support/apiserver/resources.js';
import { generateCrd } from '../../api/crd.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('printer columns of the test API server', () => {
  it('formats ages as kubectl users know them (apimachinery HumanDuration)', () => {
    const cases: Array<[number, string]> = [
      [-5 * SECOND, '<invalid>'], [-500, '0s'], [0, '0s'], [119 * SECOND, '119s'], [2 * MINUTE, '2m'], [9 * MINUTE + 5 * SECOND, '9m5s'],
      [10 * MINUTE + 5 * SECOND, '10m'], [179 * MINUTE, '179m'], [3 * HOUR, '3h'], [7 * HOUR + 59 * MINUTE, '7h59m'], [8 * HOUR + 30 * MINUTE, '8h'],
      [47 * HOUR, '47h'], [2 * DAY, '2d'], [3 * DAY + 5 * HOUR, '3d5h'], [8 * DAY + 5 * HOUR, '8d'], [730 * DAY, '2y'], [800 * DAY, '2y70d'], [3000 * DAY, '8y'],
    ];
    expect(cases.map(([milliseconds]) => humanDuration(milliseconds))).toEqual(cases.map(([, text]) => text));
  });

  it('evaluates the simple JSONPath CRD printer columns allow', () => {
    const object = { metadata: { name: 'web' }, status: { targets: [{ name: 'a' }, { name: 'b' }], conditions: [{ type: 'Accepted', status: 'True' }, { type: 'Ready', status: 'False' }] } };
    expect(jsonPathValues('.metadata.name', object)).toEqual(['web']);
    expect(jsonPathValues('.status.targets[*].name', object)).toEqual(['a', 'b']);
    expect(jsonPathValues('.status.targets[1].name', object)).toEqual(['b']);
    expect(jsonPathValues('.status.conditions[?(@.type=="Ready")].status', object)).toEqual(['False']);
    expect(jsonPathValues("{.status.conditions[?(@.type=='Accepted')].status}", object)).toEqual(['True']);
    expect(jsonPathValues('.status.missing.deeper', object)).toEqual([]);
    expect(jsonPathValues('.metadata.name[0]', object)).toEqual([]);
  });

  it('uses the CRD printer columns for BadGatewayPolicy and known columns for built-ins', () => {
    const [policy] = resourcesFromCrd(generateCrd() as Record<string, unknown>);
    const columns = columnsFor(policy!);
    expect(columns.map((column) => column.definition.name)).toEqual(['Name', 'Targets', 'Configured', 'Ready', 'Reason', 'Age', 'Degraded', 'ConfigMap']);
    expect(columns.filter((column) => column.definition.priority === 1).map((column) => column.definition.name)).toEqual(['Degraded', 'ConfigMap']);
    const now = new Date('2026-01-01T01:00:00Z');
    const object = {
      metadata: { name: 'web', creationTimestamp: '2026-01-01T00:00:00Z' },
      status: { targets: [{ name: 'web' }, { name: 'api' }], targetSummary: 'web,api', configured: '1/2', configMap: 'badgateway-web', conditions: [{ type: 'Ready', status: 'False', reason: 'TargetsNotConfigured' }, { type: 'Degraded', status: 'False' }] },
    };
    expect(columns.map((column) => column.cell(object, now))).toEqual(['web', 'web,api', '1/2', 'False', 'TargetsNotConfigured', '60m', 'False', 'badgateway-web']);
    expect(columns.map((column) => column.cell({ metadata: { name: 'new', creationTimestamp: '2026-01-01T01:00:00Z' } }, now))).toEqual(['new', null, null, null, null, '0s', null, null]);

    const deployment = BUILTIN_RESOURCES.find((type) => type.kind === 'Deployment')!;
    const deploymentObject = { metadata: { name: 'web' }, spec: { replicas: 3 }, status: { readyReplicas: 1, updatedReplicas: 2 } };
    expect(columnsFor(deployment).filter((column) => column.definition.priority === 0).map((column) => column.cell(deploymentObject, now)).slice(0, 4)).toEqual(['web', '1/3', 2, 0]);
  });
});
