import { z } from 'zod';

/**
 * `value` with exactly the fields `schema` names, in the order it declares them, in nested objects and arrays too;
 * the keys of a record (an app's `env`, an event's details) sorted.
 * The table keeps no attribute order, so without this a read would answer with its fields shuffled, unlike the
 * write that made them and the OpenAPI document; and what a record holds beyond its contract never reaches a
 * caller.
 */
export function inSchemaOrder<S extends z.ZodType>(schema: S, value: z.output<S>): z.output<S> {
  return ordered(schema, value) as z.output<S>;
}

function ordered(schema: z.ZodType, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (schema instanceof z.ZodNullable || schema instanceof z.ZodOptional) {
    return ordered(schema.unwrap() as z.ZodType, value);
  }
  if (schema instanceof z.ZodArray && Array.isArray(value)) {
    return value.map((item) => ordered(schema.element as z.ZodType, item));
  }
  if (schema instanceof z.ZodRecord && typeof value === 'object') {
    // A map keeps no order in the table either: its keys go in code-unit order, the same on every answer.
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return Object.fromEntries(
      entries.map(([key, item]) => [key, ordered(schema.valueType as z.ZodType, item)]),
    );
  }
  if (schema instanceof z.ZodObject && typeof value === 'object') {
    const fields = value as Record<string, unknown>;
    const shape = schema.shape as Record<string, z.ZodType>;
    const result: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(shape)) {
      if (Object.hasOwn(fields, name)) result[name] = ordered(field, fields[name]);
    }
    return result;
  }
  return value;
}
