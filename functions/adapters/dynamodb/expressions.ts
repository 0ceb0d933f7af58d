/**
 * One request's condition and update expressions. Every attribute name and value goes in through a placeholder, so
 * reserved words (`name`, `status`, `count`…) and user data never become expression syntax.
 */
export class Expression {
  private readonly names: Record<string, string> = {};
  private readonly values: Record<string, unknown> = {};
  private count = 0;

  /**
   * An attribute's name, or a path into a map attribute (`body.uid`): the store's own identifiers (letters and digits),
   * never user input.
   */
  name(attribute: string): string {
    return attribute
      .split('.')
      .map((part) => {
        const placeholder = `#${part}`;
        this.names[placeholder] = part;
        return placeholder;
      })
      .join('.');
  }

  value(value: unknown): string {
    const placeholder = `:v${this.count++}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  /** The placeholders the request must carry, omitting empty maps (DynamoDB rejects those). */
  attributes() {
    return {
      ...(Object.keys(this.names).length ? { ExpressionAttributeNames: this.names } : {}),
      ...(Object.keys(this.values).length ? { ExpressionAttributeValues: this.values } : {}),
    };
  }
}

/** A condition on the item a write finds, rendered into one request's expression. */
export type Condition = (x: Expression) => string;

export const equals =
  (attribute: string, value: unknown): Condition =>
  (x) =>
    `${x.name(attribute)} = ${x.value(value)}`;

export const lessThan =
  (attribute: string, value: number | string): Condition =>
  (x) =>
    `${x.name(attribute)} < ${x.value(value)}`;

export const atLeast =
  (attribute: string, value: number): Condition =>
  (x) =>
    `${x.name(attribute)} >= ${x.value(value)}`;

export const atMost =
  (attribute: string, value: number): Condition =>
  (x) =>
    `${x.name(attribute)} <= ${x.value(value)}`;

/** With the default `pk`: the item exists. */
export const exists =
  (attribute = 'pk'): Condition =>
  (x) =>
    `attribute_exists(${x.name(attribute)})`;

/** With the default `pk`: no such item. */
export const absent =
  (attribute = 'pk'): Condition =>
  (x) =>
    `attribute_not_exists(${x.name(attribute)})`;

export const allOf =
  (...conditions: Condition[]): Condition =>
  (x) =>
    conditions.map((c) => `(${c(x)})`).join(' AND ');

export const anyOf =
  (...conditions: Condition[]): Condition =>
  (x) =>
    conditions.map((c) => `(${c(x)})`).join(' OR ');

/** A request's `ConditionExpression`, when it has a condition. */
export const conditionExpression = (condition: Condition | undefined, x: Expression) =>
  condition ? { ConditionExpression: condition(x) } : {};

/** What an update changes: attributes it sets, numbers or string-set members it adds, set members it takes out. */
export interface Changes {
  set?: Record<string, unknown>;
  add?: Record<string, number | Set<string>>;
  takeFromSet?: Record<string, Set<string>>;
}

export function updateExpression(changes: Changes, x: Expression): string {
  const clause = (verb: string, entries: [string, unknown][], joiner: string) =>
    entries.length
      ? `${verb} ${entries.map(([a, v]) => `${x.name(a)}${joiner}${x.value(v)}`).join(', ')}`
      : '';
  return [
    clause('SET', Object.entries(changes.set ?? {}), ' = '),
    clause('ADD', Object.entries(changes.add ?? {}), ' '),
    clause('DELETE', Object.entries(changes.takeFromSet ?? {}), ' '),
  ]
    .filter(Boolean)
    .join(' ');
}
