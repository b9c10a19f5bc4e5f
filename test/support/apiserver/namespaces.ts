/**
 * Namespaces as kube-apiserver and its namespace controller keep them: `default`, `kube-system`,
 * `kube-public` and `kube-node-lease` exist from the start; with `strict` on, creating an object
 * in a namespace that does not exist is 404 `namespaces "x" not found` and in a terminating one
 * 403; deleting a namespace deletes everything in it, then the namespace (objects held by
 * finalizers stay, marked for deletion, until their finalizers are removed).
 */
import type { ResourceType } from './resources.js';
import { ApiError, notFound } from './status.js';
import type { KubeObject, Store } from './store.js';

export const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export class Namespaces {
  constructor(private readonly store: Store, private readonly namespaceType: ResourceType, private readonly types: () => ResourceType[], private readonly strict: boolean) {}

  createInitial(): void {
    for (const name of INITIAL_NAMESPACES) this.store.create(this.namespaceType, undefined, withDefaults({ metadata: { name } }));
  }

  /** Before a create in `namespace`. */
  requireUsable(namespace: string | undefined): void {
    if (!this.strict || namespace === undefined) return;
    const found = this.store.find(this.namespaceType, undefined, namespace);
    if (found === undefined) throw notFound('namespaces', '', namespace);
    if (found.metadata.deletionTimestamp !== undefined) {
      throw new ApiError(403, 'Forbidden', `unable to create new content in namespace ${namespace} because it is being terminated`, { name: namespace, kind: 'namespaces' });
    }
  }

  /** After a namespace was deleted: what it held goes too, as the namespace controller does it. */
  deleteContents(namespace: string): void {
    for (const type of this.types()) {
      if (!type.namespaced) continue;
      for (const object of this.store.list(type, namespace)) {
        try {
          this.store.delete(type, namespace, object.metadata.name);
        } catch {
          // already gone
        }
      }
    }
  }
}

/** What the real server sets on every Namespace: the name label and phase Active. */
export function withDefaults(namespace: KubeObject): KubeObject {
  return {
    ...namespace,
    metadata: { ...namespace.metadata, labels: { ...namespace.metadata.labels, 'kubernetes.io/metadata.name': namespace.metadata.name } },
    spec: { finalizers: ['kubernetes'], ...namespace.spec },
    status: { phase: 'Active', ...namespace.status },
  };
}
