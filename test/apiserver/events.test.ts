/**
 * One Event store behind core/v1 and events.k8s.io/v1, as on a real server: an Event recorded
 * through events.k8s.io (as the operator records them) shows in `kubectl describe` and
 * `kubectl get events`, and a core/v1 Event reads back through events.k8s.io.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { V1MicroTime } from '@kubernetes/client-node';
import { createKubeClients, loadKubeConfig, type KubeClients } from '../../operator/kube/clients.js';
import { installPolicyCrd } from '../support/policy-crd.js';
import { startClientSession, type ClientSession } from '../support/client-session.js';

let session: ClientSession;
let clients: KubeClients;
beforeEach(async () => {
  session = await startClientSession();
  clients = createKubeClients(loadKubeConfig(session.server.kubeconfigPath));
});
afterEach(async () => {
  await session.close();
});

describe('one Event store through both Event APIs', () => {
  it('shows an events.k8s.io Event in kubectl describe and get events, and reads core Events back', async () => {
    await installPolicyCrd(session.server);
    await session.kubectlOk(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'badgateway.io/v1alpha1', kind: 'BadGatewayPolicy', metadata: { name: 'web', namespace: 'default' }, spec: {} }));
    const policy = JSON.parse(await session.kubectlOk(['get', 'bgwp', 'web', '-o', 'json'])) as { metadata: { uid: string } };
    await clients.events.createNamespacedEvent({
      namespace: 'default',
      body: {
        apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { generateName: 'web.', namespace: 'default' },
        eventTime: new V1MicroTime(Date.now()), action: 'Reconcile', reason: 'Accepted', note: 'The policy is valid', type: 'Normal',
        reportingController: 'badgateway.io/operator', reportingInstance: 'badgateway-0',
        regarding: { apiVersion: 'badgateway.io/v1alpha1', kind: 'BadGatewayPolicy', namespace: 'default', name: 'web', uid: policy.metadata.uid },
      },
    });
    expect(await session.kubectlOk(['describe', 'bgwp', 'web'])).toMatch(/Normal\s+Accepted\s+.*badgateway\.io\/operator\s+The policy is valid/);
    expect(await session.kubectlOk(['get', 'events'])).toMatch(/Normal\s+Accepted\s+badgatewaypolicy\/web\s+The policy is valid/);

    await clients.core.createNamespacedEvent({
      namespace: 'default',
      body: { metadata: { name: 'core-event' }, involvedObject: { kind: 'BadGatewayPolicy', name: 'web', namespace: 'default' }, reason: 'Tested', message: 'from core/v1', type: 'Warning', source: { component: 'test' } },
    });
    const throughEventsV1 = await clients.events.readNamespacedEvent({ namespace: 'default', name: 'core-event' });
    expect(throughEventsV1).toMatchObject({ reason: 'Tested', note: 'from core/v1', type: 'Warning', regarding: { kind: 'BadGatewayPolicy', name: 'web' }, deprecatedSource: { component: 'test' } });
    expect((await clients.core.listNamespacedEvent({ namespace: 'default' })).items.map((event) => event.reason).sort()).toEqual(['Accepted', 'Tested']);
  });
});
