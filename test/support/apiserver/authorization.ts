/* eslint-disable @typescript-eslint/no-explicit-any -- RBAC objects are stored as untyped JSON */
/**
 * Authentication by bearer token and RBAC authorization as kube-apiserver does them, so a process
 * run with a ServiceAccount's token gets exactly what the chart's Roles and ClusterRoles grant:
 * ClusterRoleBindings apply everywhere, RoleBindings (to a Role or a ClusterRole) in their
 * namespace; rules match apiGroups, resources (`plural` or `plural/subresource`), verbs and
 * resourceNames; `*` is honoured. The admin token is in `system:masters` and may do anything.
 * Discovery, `/version` and `/openapi` are open to every authenticated user, as on a real cluster.
 */
import type { ResourceType } from './resources.js';
import { ApiError, unauthorized } from './status.js';
import type { Store } from './store.js';

export interface UserInfo { username: string; groups: string[] }

export interface RequestAttributes {
  verb: string;
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

interface Rule { apiGroups?: string[]; resources?: string[]; verbs?: string[]; resourceNames?: string[] }
interface Subject { kind: string; name: string; namespace?: string }

const ADMIN: UserInfo = { username: 'test-admin', groups: ['system:masters', 'system:authenticated'] };

export class Authorizer {
  private readonly tokens = new Map<string, UserInfo>();

  constructor(
    adminToken: string,
    private readonly store: Store,
    private readonly rbac: { roles: ResourceType; clusterRoles: ResourceType; roleBindings: ResourceType; clusterRoleBindings: ResourceType },
  ) {
    this.tokens.set(adminToken, ADMIN);
  }

  /** Registers a token that authenticates as the ServiceAccount `namespace/name`. */
  addServiceAccountToken(token: string, namespace: string, name: string): void {
    this.tokens.set(token, {
      username: `system:serviceaccount:${namespace}:${name}`,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
    });
  }

  authenticate(authorization: string | undefined): UserInfo {
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    const user = token === undefined ? undefined : this.tokens.get(token);
    if (user === undefined) throw unauthorized();
    return user;
  }

  authorize(user: UserInfo, request: RequestAttributes): void {
    if (user.groups.includes('system:masters')) return;
    if (this.rulesFor(user, request.namespace).some((rule) => ruleAllows(rule, request))) return;
    const { type, verb, namespace } = request;
    const resource = request.subresource === undefined ? type.plural : `${type.plural}/${request.subresource}`;
    const where = namespace === undefined ? 'at the cluster scope' : `in the namespace "${namespace}"`;
    const what = request.name === undefined ? resource : `${resource} "${request.name}"`;
    throw new ApiError(403, 'Forbidden', `${what} is forbidden: User "${user.username}" cannot ${verb} resource "${resource}" in API group "${type.group}" ${where}`,
      { ...(request.name === undefined ? {} : { name: request.name }), group: type.group, kind: type.plural });
  }

  private rulesFor(user: UserInfo, namespace: string | undefined): Rule[] {
    const bound = (binding: any) => ((binding.subjects ?? []) as Subject[]).some((subject) => subjectMatches(subject, user));
    const roleRules = (roleRef: any, bindingNamespace?: string): Rule[] => {
      try {
        const role = roleRef.kind === 'ClusterRole'
          ? this.store.get(this.rbac.clusterRoles, undefined, roleRef.name)
          : this.store.get(this.rbac.roles, bindingNamespace, roleRef.name);
        return role.rules ?? [];
      } catch {
        return []; // a binding to a missing role grants nothing
      }
    };
    const rules = this.store.list(this.rbac.clusterRoleBindings).filter(bound).flatMap((binding) => roleRules(binding.roleRef));
    if (namespace !== undefined) {
      rules.push(...this.store.list(this.rbac.roleBindings, namespace).filter(bound).flatMap((binding) => roleRules(binding.roleRef, namespace)));
    }
    return rules;
  }
}

function subjectMatches(subject: Subject, user: UserInfo): boolean {
  if (subject.kind === 'ServiceAccount') return user.username === `system:serviceaccount:${subject.namespace ?? ''}:${subject.name}`;
  if (subject.kind === 'User') return user.username === subject.name;
  if (subject.kind === 'Group') return user.groups.includes(subject.name);
  return false;
}

const includes = (list: string[] | undefined, value: string) => (list ?? []).some((item) => item === '*' || item === value);

function ruleAllows(rule: Rule, request: RequestAttributes): boolean {
  const resource = request.subresource === undefined ? request.type.plural : `${request.type.plural}/${request.subresource}`;
  const resourceMatches = (rule.resources ?? []).some((item) => item === '*' || item === resource || (request.subresource !== undefined && item === `*/${request.subresource}`));
  if (!includes(rule.apiGroups, request.type.group) || !resourceMatches || !includes(rule.verbs, request.verb)) return false;
  if ((rule.resourceNames ?? []).length === 0) return true;
  return request.name !== undefined && rule.resourceNames!.includes(request.name);
}

/** The RBAC verb of an HTTP request on a resource. */
export function verbOf(method: string, name: string | undefined, watch: boolean): string {
  if (method === 'GET' || method === 'HEAD') return watch ? 'watch' : name === undefined ? 'list' : 'get';
  if (method === 'POST') return 'create';
  if (method === 'PUT') return 'update';
  if (method === 'PATCH') return 'patch';
  if (method === 'DELETE') return name === undefined ? 'deletecollection' : 'delete';
  return method.toLowerCase();
}
