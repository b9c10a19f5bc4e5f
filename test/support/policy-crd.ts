/**
 * Installs the BadGatewayPolicy CRD as raw JSON, as kubectl sends it: client-node's typed
 * serializer maps JSONSchemaProps by its model names (`_default`, `_enum`), so a plain CRD object
 * sent through it loses `default` and `enum` on the way.
 */
import { generateCrd } from '../../api/crd.js';
import { CRD_NAME } from '../../api/names.js';
import { clusterRequest, type Cluster } from './cluster.js';
import { waitFor } from '../cluster/api-request.js';
import type { TestApiServer } from './apiserver/index.js';

export async function installPolicyCrd(server: Pick<TestApiServer, 'post'>): Promise<void> {
  const status = await server.post('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', generateCrd());
  if (status !== 201) throw new Error(`creating the BadGatewayPolicy CRD answered ${status}`);
}

const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

/**
 * The CRD on the real cluster, shared by every test file of the run: created unless present (the
 * real apiserver checks it is a structural schema), then awaited until Established.
 */
export async function ensurePolicyCrd(cluster: Cluster): Promise<void> {
  const crd = generateCrd();
  const created = await clusterRequest(cluster, 'POST', CRD_PATH, crd);
  if (created.status !== 201 && created.status !== 409) throw new Error(`the real apiserver refused the BadGatewayPolicy CRD: ${created.status} ${JSON.stringify(created.body)}`);
  await waitFor(async () => {
    const current = await clusterRequest(cluster, 'GET', `${CRD_PATH}/${CRD_NAME}`);
    const conditions = (current.body as { status?: { conditions?: Array<{ type: string; status: string }> } }).status?.conditions ?? [];
    return conditions.some((condition) => condition.type === 'Established' && condition.status === 'True') ? true : undefined;
  }, 30_000, () => 'the BadGatewayPolicy CRD not Established in 30 s');
}
