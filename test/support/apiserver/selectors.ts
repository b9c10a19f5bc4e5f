/** Label selectors (equality- and set-based) and field selectors, as kube-apiserver offers them. */
import { badRequest } from './status.js';

type Requirement = (labels: Record<string, string>) => boolean;

export function parseLabelSelector(text: string | null): Requirement {
  if (text === null || text.trim() === '') return () => true;
  const requirements: Requirement[] = [];
  // Split on commas that are not inside parentheses.
  for (const part of text.split(/,(?![^(]*\))/).map((piece) => piece.trim()).filter((piece) => piece !== '')) {
    let match: RegExpExecArray | null;
    if ((match = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part)) !== null) {
      const [, key, operator, list] = match as unknown as [string, string, string, string];
      const values = list.split(',').map((value) => value.trim());
      requirements.push(operator === 'in' ? (labels) => values.includes(labels[key] as string) : (labels) => !values.includes(labels[key] as string));
    } else if ((match = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(part)) !== null) {
      const [, key, operator, value] = match as unknown as [string, string, string, string];
      requirements.push(operator === '!=' ? (labels) => labels[key] !== value : (labels) => labels[key] === value);
    } else if ((match = /^!([\w./-]+)$/.exec(part)) !== null) {
      const key = match[1] as string;
      requirements.push((labels) => !(key in labels));
    } else if (/^[\w./-]+$/.test(part)) {
      requirements.push((labels) => part in labels);
    } else {
      throw new Error(`unable to parse requirement: ${part}`);
    }
  }
  return (labels) => requirements.every((requirement) => requirement(labels));
}

/**
 * Field selectors on any dotted path (`metadata.name`, and e.g. the `involvedObject.*` ones
 * `kubectl describe` sends for events); an absent field compares as "", as on the real server,
 * which only allows a per-kind list of paths (this server allows all).
 */
export function parseFieldSelector(text: string | null): (object: { metadata: { name?: string; namespace?: string } }) => boolean {
  if (text === null || text.trim() === '') return () => true;
  const checks = text.split(',').map((part) => {
    const match = /^([A-Za-z][\w]*(?:\.[A-Za-z][\w]*)*)\s*(==|=|!=)\s*(.*)$/.exec(part.trim());
    if (match === null) throw badRequest(`invalid field selector: ${part}`);
    const [, field, operator, value] = match as unknown as [string, string, string, string];
    const path = field.split('.');
    return (object: object) => {
      let actual: unknown = object;
      for (const key of path) actual = actual !== null && typeof actual === 'object' ? (actual as Record<string, unknown>)[key] : undefined;
      const found = actual === undefined || actual === null ? '' : String(actual);
      return operator === '!=' ? found !== value : found === value;
    };
  });
  return (object) => checks.every((check) => check(object));
}

/** A metav1.LabelSelector object (matchLabels + matchExpressions), as webhooks' selectors use. */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}

/** An absent or empty selector matches everything, as on the real server. */
export function labelSelectorMatches(selector: LabelSelectorObject | undefined, labels: Record<string, string>): boolean {
  if (selector === undefined) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  return (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    switch (operator) {
      case 'In': return key in labels && values.includes(labels[key] as string);
      case 'NotIn': return !(key in labels) || !values.includes(labels[key] as string);
      case 'Exists': return key in labels;
      case 'DoesNotExist': return !(key in labels);
      default: throw new Error(`unsupported label selector operator ${String(operator)}`);
    }
  });
}
