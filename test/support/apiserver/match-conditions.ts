/* eslint-disable @typescript-eslint/no-explicit-any -- CEL evaluates over arbitrary Kubernetes JSON */
/**
 * A small subset of CEL for webhook `matchConditions`: field access (`a.b`, `a['b']`), `has()`,
 * `in` (map keys, list elements), `==`, `!=`, `!`, `&&`, `||`, parentheses, and string, number,
 * boolean and null literals. `&&`/`||` absorb an error when the other side decides the result, as
 * CEL does. Anything outside the subset is an error, which the caller treats per failurePolicy,
 * like a runtime error on the real server. Variables: `object`, `oldObject`, `request`.
 */

type Token = { kind: 'string' | 'number' | 'ident' | 'op'; text: string };

export class CelError extends Error {}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s*(?:(\d+(?:\.\d+)?)|'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|([A-Za-z_]\w*)|(&&|\|\||==|!=|[!().[\],]))/y;
  let index = 0;
  while (index < source.length) {
    if (/^\s*$/.test(source.slice(index))) break;
    pattern.lastIndex = index;
    const match = pattern.exec(source);
    if (match === null) throw new CelError(`unsupported CEL syntax at ${index}: ${source.slice(index, index + 20)}`);
    index = pattern.lastIndex;
    if (match[1] !== undefined) tokens.push({ kind: 'number', text: match[1] });
    else if (match[2] !== undefined || match[3] !== undefined) tokens.push({ kind: 'string', text: (match[2] ?? match[3] as string).replace(/\\(.)/g, '$1') });
    else if (match[4] !== undefined) tokens.push({ kind: 'ident', text: match[4] });
    else tokens.push({ kind: 'op', text: match[5] as string });
  }
  return tokens;
}

type Node = (variables: Record<string, any>) => any;

class Parser {
  private position = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Node {
    const node = this.or();
    if (this.position < this.tokens.length) throw new CelError(`unexpected ${this.tokens[this.position]!.text}`);
    return node;
  }

  private peek(text: string): boolean {
    return this.tokens[this.position]?.text === text && this.tokens[this.position]?.kind !== 'string';
  }

  private expect(text: string): void {
    if (!this.peek(text)) throw new CelError(`expected ${text}`);
    this.position += 1;
  }

  private or(): Node {
    return this.logicalChain('||', () => this.and());
  }

  private and(): Node {
    return this.logicalChain('&&', () => this.unary());
  }

  private logicalChain(operator: '||' | '&&', operand: () => Node): Node {
    let left = operand();
    while (this.peek(operator)) {
      this.position += 1;
      const [first, second] = [left, operand()];
      left = (variables) => logical(first, second, variables, operator === '||');
    }
    return left;
  }

  private unary(): Node {
    if (this.peek('!')) {
      this.position += 1;
      const operand = this.unary();
      return (variables) => !asBool(operand(variables));
    }
    return this.comparison();
  }

  private comparison(): Node {
    const left = this.postfix();
    const operator = this.tokens[this.position];
    if (operator === undefined || operator.kind === 'string' || !['==', '!=', 'in'].includes(operator.text)) return left;
    this.position += 1;
    const right = this.postfix();
    if (operator.text === '==') return (variables) => JSON.stringify(left(variables)) === JSON.stringify(right(variables));
    if (operator.text === '!=') return (variables) => JSON.stringify(left(variables)) !== JSON.stringify(right(variables));
    return (variables) => {
      const [needle, haystack] = [left(variables), right(variables)];
      if (Array.isArray(haystack)) return haystack.some((item) => JSON.stringify(item) === JSON.stringify(needle));
      if (haystack !== null && typeof haystack === 'object') return Object.hasOwn(haystack, needle);
      throw new CelError(`no such overload: in ${typeof haystack}`);
    };
  }

  private postfix(): Node {
    let node = this.primary();
    for (;;) {
      if (this.peek('.')) {
        this.position += 1;
        const field = this.identifier();
        const parent = node;
        node = (variables) => select(parent(variables), field);
      } else if (this.peek('[')) {
        this.position += 1;
        const key = this.or();
        this.expect(']');
        const parent = node;
        node = (variables) => select(parent(variables), key(variables));
      } else {
        return node;
      }
    }
  }

  private identifier(): string {
    const token = this.tokens[this.position];
    if (token?.kind !== 'ident') throw new CelError('expected a field name');
    this.position += 1;
    return token.text;
  }

  private primary(): Node {
    const token = this.tokens[this.position];
    if (token === undefined) throw new CelError('unexpected end of expression');
    this.position += 1;
    if (token.kind === 'string') return () => token.text;
    if (token.kind === 'number') return () => Number(token.text);
    if (token.kind === 'op' && token.text === '(') {
      const inner = this.or();
      this.expect(')');
      return inner;
    }
    if (token.kind !== 'ident') throw new CelError(`unexpected ${token.text}`);
    if (token.text === 'true' || token.text === 'false') return () => token.text === 'true';
    if (token.text === 'null') return () => null;
    if (token.text === 'has') return this.has();
    return (variables) => {
      if (!Object.hasOwn(variables, token.text)) throw new CelError(`undeclared reference to '${token.text}'`);
      return variables[token.text];
    };
  }

  /** `has(a.b.c)`: whether field c is present on a.b (a missing a.b is false here, an error in CEL). */
  private has(): Node {
    this.expect('(');
    const start = this.position;
    const path = this.postfix();
    const last = this.tokens[this.position - 1];
    if (this.tokens[this.position - 2]?.text !== '.' || last?.kind !== 'ident' || this.position - start < 3) throw new CelError('has() takes a field selection');
    this.expect(')');
    return (variables) => {
      try {
        path(variables);
        return true;
      } catch {
        return false;
      }
    };
  }
}

function select(parent: any, key: unknown): any {
  if (parent === null || typeof parent !== 'object' || !Object.hasOwn(parent, String(key))) {
    throw new CelError(`no such key: ${String(key)}`);
  }
  return parent[String(key)];
}

function asBool(value: unknown): boolean {
  if (typeof value !== 'boolean') throw new CelError(`no matching overload: expected bool, got ${typeof value}`);
  return value;
}

/** CEL's commutative logic: the deciding value wins over an error on the other side. */
function logical(left: Node, right: Node, variables: Record<string, any>, isOr: boolean): boolean {
  let leftError: unknown;
  try {
    if (asBool(left(variables)) === isOr) return isOr;
  } catch (error) {
    leftError = error;
  }
  const rightValue = asBool(right(variables));
  if (rightValue === isOr) return isOr;
  if (leftError !== undefined) throw leftError;
  return !isOr;
}

export function compileCel(expression: string): Node {
  return new Parser(tokenize(expression)).parse();
}

/** Evaluates to a boolean, or throws a CelError. */
export function evaluateCel(expression: string, variables: Record<string, unknown>): boolean {
  return asBool(compileCel(expression)(variables));
}
