/**
 * Installs the BadGatewayPolicy CRD into a test API server as raw JSON, as kubectl sends it:
 * client-node's typed serializer maps JSONSchemaProps by its model names (`_default`, `_enum`), so a
 * plain CRD object sent through it loses `default` and `enum` on the way.
 */
import { generateCrd } from '../../api/crd.js';
import type { TestApiServer } from './apiserver/index.js';

export async function installPolicyCrd(server: Pick<TestApiServer, 'post'>): Promise<void> {
  const status = await server.post('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', generateCrd());
  if (status !== 201) throw new Error(`creating the BadGatewayPolicy CRD answered ${status}`);
}
