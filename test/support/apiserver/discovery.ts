/** Discovery documents: `/apis` (APIGroupList) and `/api/v1`, `/apis/{group}/{version}` (APIResourceList). */
import type { ResourceType } from './resources.js';
import { notFound } from './status.js';

export function groupList(types: ResourceType[]): unknown {
  const groups = new Map<string, Set<string>>();
  for (const type of types) if (type.group !== '') (groups.get(type.group) ?? groups.set(type.group, new Set()).get(type.group))!.add(type.version);
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups].map(([name, versions]) => ({
      name,
      versions: [...versions].map((version) => ({ groupVersion: `${name}/${version}`, version })),
      preferredVersion: { groupVersion: `${name}/${[...versions][0]}`, version: [...versions][0] },
    })),
  };
}

export function resourceList(allTypes: ResourceType[], group: string, version: string): unknown {
  const types = allTypes.filter((type) => type.group === group && type.version === version);
  if (types.length === 0) throw notFound('groups', group, version);
  const verbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group === '' ? version : `${group}/${version}`,
    resources: types.flatMap((type) => [
      { name: type.plural, singularName: type.singular, namespaced: type.namespaced, kind: type.kind, verbs, shortNames: type.shortNames, categories: type.categories ?? [] },
      ...(type.statusSubresource ? [{ name: `${type.plural}/status`, singularName: '', namespaced: type.namespaced, kind: type.kind, verbs: ['get', 'patch', 'update'] }] : []),
    ]),
  };
}
