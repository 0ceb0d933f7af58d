import { z } from 'zod';

/**
 * `value` with its fields in the order `schema` declares them, in nested objects and arrays too; fields the schema
 * does not name keep their place after the ones it does. The table keeps no attribute order, so without this a
 * read would answer with its fields shuffled, unlike the write that made them and the OpenAPI document.
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
  if (schema instanceof z.ZodObject && typeof value === 'object') {
    const fields = value as Record<string, unknown>;
    const shape = schema.shape as Record<string, z.ZodType>;
    const result: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(shape)) {
      if (Object.hasOwn(fields, name)) result[name] = ordered(field, fields[name]);
    }
    for (const [name, field] of Object.entries(fields)) {
      if (!Object.hasOwn(shape, name)) result[name] = field;
    }
    return result;
  }
  return value;
}
