/**
 * kwok plays the kubelets: it keeps the Nodes it manages Ready (node Leases in kube-node-lease) and
 * moves the pods scheduled onto them through Pending → Running → Ready with an IP, and deletes them
 * when asked, without containers, by kwok's default stages (kwok/stages.yaml). It manages exactly
 * the Nodes annotated `kwok.x-k8s.io/node: fake`.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
const STAGES = join(dirname(fileURLToPath(import.meta.url)), 'kwok', 'stages.yaml');

export function kwokArgs(kubeconfigPath: string, serverPort: number): string[] {
  return [
    `--kubeconfig=${kubeconfigPath}`,
    '--manage-all-nodes=false',
    `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
    '--cidr=10.244.0.1/16', '--node-ip=10.0.0.1',
    `--server-address=127.0.0.1:${serverPort}`,
    '--node-lease-duration-seconds=40',
    // The stages, and never a contributor's ~/.kwok/kwok.yaml.
    `--config=${STAGES}`,
  ];
}

export interface NodeManifest {
  apiVersion: 'v1';
  kind: 'Node';
  metadata: { name: string; annotations: Record<string, string>; labels: Record<string, string> };
  status: Record<string, unknown>;
}

/** Nodes the size of a real worker, labelled as kubelets label theirs. */
export function kwokNodes(count: number): NodeManifest[] {
  return Array.from({ length: count }, (_, index) => {
    const name = `kwok-node-${index}`;
    const capacity = { cpu: '32', memory: '256Gi', pods: '110', 'ephemeral-storage': '100Gi' };
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        annotations: { [KWOK_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
        labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok' },
      },
      status: { allocatable: capacity, capacity, nodeInfo: { architecture: 'amd64', operatingSystem: 'linux', kubeletVersion: 'fake' } },
    };
  });
}
