/**
 * Checks of the injection webhook: its MutatingWebhookConfiguration, the caBundle the API server
 * trusts, and whether the API server really gets a sidecar back — probed with a dry-run create of
 * an annotated Deployment, which runs admission (sideEffects: None) and stores nothing.
 */
import type { V1Deployment, V1MutatingWebhookConfiguration } from '@kubernetes/client-node';
import { X509Certificate } from 'node:crypto';
import { ANNOTATIONS, SIDECAR_CONTAINER_NAME } from '../../api/names.js';
import { flagValue, hasFlag } from './flags.js';
import { describeError, fail, pass, skip, type CheckContext, type CheckResult, type OperatorInstall } from './types.js';

const CONFIG_CHECK = 'webhook configuration present';
const CA_CHECK = 'webhook caBundle valid';
const REACH_CHECK = 'webhook reachable (dry-run injection)';

export async function checkWebhook(context: CheckContext, operator: OperatorInstall | undefined): Promise<CheckResult[]> {
  if (operator !== undefined && hasFlag(operator.args, '--no-webhook')) {
    return [skip(CONFIG_CHECK, 'the operator runs with --no-webhook: Deployments are injected with `badgateway inject`')];
  }
  let configName = (operator === undefined ? undefined : flagValue(operator.args, '--webhook-config')) ?? 'badgateway';
  let config: V1MutatingWebhookConfiguration;
  try {
    if (operator === undefined) {
      // No operator to ask: the chart's labels find the configuration.
      const labelled = (await context.clients.admission.listMutatingWebhookConfiguration({ labelSelector: 'app.kubernetes.io/name=badgateway' })).items[0];
      configName = labelled?.metadata?.name ?? configName;
    }
    config = await context.clients.admission.readMutatingWebhookConfiguration({ name: configName });
  } catch (error) {
    const message = (error as { code?: number }).code === 404 ? `MutatingWebhookConfiguration ${configName} not found` : describeError(error);
    return [
      fail(CONFIG_CHECK, message, 'the chart creates it (the operator only fills in its caBundle): helm upgrade --install badgateway charts/badgateway -n badgateway-system'),
      skip(CA_CHECK, 'no webhook configuration'),
      skip(REACH_CHECK, 'no webhook configuration'),
    ];
  }
  const webhooks = config.webhooks ?? [];
  if (webhooks.length === 0) {
    return [fail(CONFIG_CHECK, `MutatingWebhookConfiguration ${configName} has no webhooks`, 'reinstall the chart'), skip(CA_CHECK, 'no webhooks'), skip(REACH_CHECK, 'no webhooks')];
  }
  const target = webhooks[0]?.clientConfig.service;
  const results = [pass(CONFIG_CHECK, `${configName}: ${webhooks.length} webhook(s), failurePolicy ${webhooks[0]?.failurePolicy ?? 'Fail'}${target === undefined ? '' : `, Service ${target.namespace}/${target.name}`}`)];
  results.push(checkCaBundles(context, webhooks.map((webhook) => webhook.clientConfig.caBundle)));
  results.push(await probeInjection(context, config, operator));
  return results;
}

function checkCaBundles(context: CheckContext, bundles: readonly (string | undefined)[]): CheckResult {
  const selfSignedHint = 'the operator writes it at start (self-signed mode): look for "cannot patch the webhook caBundle" in its log; with cert-manager, check the Certificate and cainjector';
  let last: X509Certificate | undefined;
  for (const bundle of bundles) {
    if (bundle === undefined || bundle === '') return fail(CA_CHECK, 'caBundle is empty: the API server cannot verify the webhook', selfSignedHint);
    try {
      // caBundle is base64 of PEM; client-node hands it over as sent.
      last = new X509Certificate(Buffer.from(bundle, 'base64').toString('utf8'));
    } catch {
      return fail(CA_CHECK, 'caBundle is not a PEM certificate', selfSignedHint);
    }
    const notAfter = new Date(last.validTo);
    if (notAfter.getTime() <= context.now().getTime()) return fail(CA_CHECK, `the CA expired on ${notAfter.toISOString()}`, selfSignedHint);
  }
  return pass(CA_CHECK, `CA "${last?.subject.replace(/\n/g, ', ') ?? '?'}" valid until ${new Date(last?.validTo ?? 0).toISOString().slice(0, 10)}`);
}

/** A namespace the webhook serves: the one it is scoped to, else `default`. */
function probeNamespace(config: V1MutatingWebhookConfiguration): string {
  const scoped = config.webhooks?.[0]?.namespaceSelector?.matchExpressions?.find((expression) => expression.key === 'kubernetes.io/metadata.name' && expression.operator === 'In');
  return scoped?.values?.[0] ?? 'default';
}

function probeDeployment(namespace: string): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { generateName: 'badgateway-check-', namespace, annotations: { [ANNOTATIONS.inject]: 'true' } },
    spec: {
      selector: { matchLabels: { app: 'badgateway-check' } },
      template: {
        metadata: { labels: { app: 'badgateway-check' } },
        spec: { containers: [{ name: 'app', image: 'badgateway-check', ports: [{ name: 'http', containerPort: 8080 }] }] },
      },
    },
  };
}

async function probeInjection(context: CheckContext, config: V1MutatingWebhookConfiguration, operator: OperatorInstall | undefined): Promise<CheckResult> {
  const namespace = probeNamespace(config);
  const service = config.webhooks?.[0]?.clientConfig.service;
  const hint = `check that the operator pods are ready and the Service ${service === undefined ? '' : `${service.namespace}/${service.name} `}has endpoints (kubectl -n ${service?.namespace ?? operator?.namespace ?? 'badgateway-system'} get endpointslices), that no NetworkPolicy blocks the API server from port 9443, and the operator log`;
  let admitted: V1Deployment;
  try {
    admitted = await context.clients.apps.createNamespacedDeployment({ namespace, body: probeDeployment(namespace), dryRun: 'All' });
  } catch (error) {
    return fail(REACH_CHECK, `dry-run create in ${namespace} failed: ${describeError(error)}`, hint);
  }
  const pod = admitted.spec?.template.spec;
  const injected = [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])].some((container) => container.name === SIDECAR_CONTAINER_NAME);
  if (!injected) {
    return fail(REACH_CHECK, `a dry-run Deployment in ${namespace} annotated ${ANNOTATIONS.inject}=true was admitted without a sidecar: the API server did not get an answer from the webhook (failurePolicy Ignore)`, hint);
  }
  return pass(REACH_CHECK, `the API server called the webhook and got a sidecar back (dry run in ${namespace}, nothing stored)`);
}
