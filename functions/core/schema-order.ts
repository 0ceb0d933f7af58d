import * as z from 'zod';
import { codeUnitOrder } from './code-unit-order.ts';

/**
 * `value` with exactly the fields `schema` names, in the order it declares them, in nested objects and arrays too;
 * the keys of a record (an app's `env`, an event's details) sorted, and those of what a schema leaves open too.
 * The table keeps no attribute order, so without this a read would answer with its fields shuffled, unlike the
 * write that made them and the OpenAPI document; and what a record holds beyond its contract never reaches a
 * caller.
 */
export function inSchemaOrder<S extends z.ZodType>(schema: S, value: z.output<S>): z.output<S> {
  return ordererOf(schema)(value) as z.output<S>;
}

type Orderer = (value: unknown) => unknown;

const orderers = new WeakMap<z.ZodType, Orderer>();

/**
 * The orderer of `schema`, made on its first use: every answer goes through one, and telling a zod schema's kind
 * (`instanceof` on zod's classes) costs more than the ordering itself.
 */
function ordererOf(schema: z.ZodType): Orderer {
  let orderer = orderers.get(schema);
  if (!orderer) {
    const order = makeOrderer(schema);
    orderer = (value) => (value === null || value === undefined ? value : order(value));
    orderers.set(schema, orderer);
  }
  return orderer;
}

/** Orders a value that is neither null nor undefined; a nested schema's orderer is looked up when first needed. */
function makeOrderer(schema: z.ZodType): Orderer {
  if (schema instanceof z.ZodNullable || schema instanceof z.ZodOptional) {
    const inner = schema.unwrap() as z.ZodType;
    return (value) => ordererOf(inner)(value);
  }
  if (schema instanceof z.ZodArray) {
    const element = schema.element as z.ZodType;
    return (value) => (Array.isArray(value) ? value.map((item) => ordererOf(element)(item)) : value);
  }
  if (schema instanceof z.ZodRecord) {
    const valueType = schema.valueType as z.ZodType;
    return (value) => {
      if (typeof value !== 'object') return value;
      // A map keeps no order in the table either: its keys go in code-unit order, the same on every answer.
      const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
        codeUnitOrder(a, b),
      );
      return Object.fromEntries(entries.map(([key, item]) => [key, ordererOf(valueType)(item)]));
    };
  }
  if (schema instanceof z.ZodObject) {
    const shape = Object.entries(schema.shape as Record<string, z.ZodType>);
    return (value) => {
      if (typeof value !== 'object') return value;
      const fields = value as Record<string, unknown>;
      const result: Record<string, unknown> = {};
      for (const [name, field] of shape) {
        if (Object.hasOwn(fields, name)) result[name] = ordererOf(field)(fields[name]);
      }
      return result;
    };
  }
  if (schema instanceof z.ZodUnknown) return inCodeUnitOrder;
  return (value) => value;
}

/**
 * What a schema leaves open (an event's details), its objects' keys in code-unit order at every depth: the table
 * keeps no order there either (an event's `by`, say), and each answer should read the same.
 */
function inCodeUnitOrder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(inCodeUnitOrder);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => codeUnitOrder(a, b));
  return Object.fromEntries(entries.map(([key, item]) => [key, inCodeUnitOrder(item)]));
}
