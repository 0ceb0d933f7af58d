import { codeUnitOrder } from './code-unit-order.ts';

/** `value` with every object's keys in code-unit order and its undefined members left out, as JSON keeps none. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => codeUnitOrder(a, b))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}

/**
 * A value's JSON with every object's keys in code-unit order: the same text for the same data. A record read back
 * from the table holds its maps' keys in the table's order, not in the order they were written in, so comparing or
 * hashing plain `JSON.stringify` of it tells equal data apart.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value));
}

/** True when two values hold the same data, whatever the order of their keys. */
export function sameValue(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
