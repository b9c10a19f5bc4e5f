/**
 * Whether each injected sidecar speaks to its app what injection would choose today: the webhook
 * reads the Services' `appProtocol` at admission only, so a Service created or changed since then
 * counts from the next rollout. Injection (a pure function) is asked again with today's Services.
 */
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import { ANNOTATIONS } from '../../api/names.js';
import { sidecarOf } from '../controller/target-state.js';
import { injectDeployment } from '../inject/inject.js';
import { CURRENT_KUBE_VERSION } from '../inject/kube-version.js';
import { DEFAULT_INJECTION_SETTINGS } from '../inject/settings.js';
import { describeError, fail, pass, type CheckContext, type CheckResult } from './types.js';

const NAME = 'injected sidecars speak the app\'s protocol';

/** The running sidecar's --app-protocol (or its environment variable); http1 when neither is set. */
function runningProtocol(deployment: V1Deployment): string {
  const sidecar = sidecarOf(deployment);
  const args = sidecar?.args ?? [];
  const flag = args.indexOf('--app-protocol');
  if (flag >= 0 && args[flag + 1] !== undefined) return args[flag + 1] as string;
  return sidecar?.env?.find((variable) => variable.name === 'BADGATEWAY_APP_PROTOCOL')?.value ?? 'http1';
}

export async function checkAppProtocols(context: CheckContext): Promise<CheckResult> {
  let deployments: V1Deployment[];
  let services: V1Service[];
  try {
    const [deploymentList, serviceList] = await Promise.all([
      context.clients.apps.listDeploymentForAllNamespaces({}),
      context.clients.core.listServiceForAllNamespaces({}),
    ]);
    deployments = deploymentList.items;
    services = serviceList.items;
  } catch (error) {
    return fail(NAME, describeError(error), 'the kubeconfig\'s user needs list on deployments and services in all namespaces');
  }
  const injected = deployments.filter((deployment) => deployment.metadata?.annotations?.[ANNOTATIONS.injected] !== undefined && sidecarOf(deployment) !== undefined);
  const stale = injected.flatMap((deployment) => {
    const today = injectDeployment(deployment, { settings: DEFAULT_INJECTION_SETTINGS, kubeVersion: CURRENT_KUBE_VERSION, services }).appProtocol;
    const running = runningProtocol(deployment);
    if (today === undefined || today.protocol === running) return [];
    const { namespace = '', name = '' } = deployment.metadata ?? {};
    return [{ namespace, name, message: `${namespace}/${name} runs ${running}, injection now chooses ${today.protocol} (${today.why})` }];
  });
  const first = stale[0];
  if (first !== undefined) {
    return fail(NAME, stale.map((entry) => entry.message).join('; '),
      `the webhook reads Services at admission: roll the Deployment so it decides again (kubectl -n ${first.namespace} rollout restart deployment ${first.name})`);
  }
  return pass(NAME, `${injected.length} injected, each as its annotation, Services and port name say`);
}
