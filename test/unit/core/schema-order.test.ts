import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { inSchemaOrder } from '../../../functions/core/schema-order.ts';
import { AppEvent } from '../../../schemas/instance.ts';

const Thing = z.object({
  id: z.string(),
  limits: z.object({ low: z.number(), high: z.number() }).nullable(),
  parts: z.array(z.object({ a: z.number(), b: z.number() })),
  note: z.string().optional(),
  tags: z.record(z.string(), z.string()),
});

describe('inSchemaOrder', () => {
  it('puts fields in the order the schema declares, in nested objects and arrays too, and sorts a record', () => {
    const shuffled = {
      tags: { z: '1', a: '2' },
      parts: [{ b: 2, a: 1 }],
      note: 'n',
      limits: { high: 9, low: 1 },
      id: 'x',
    };
    const ordered = inSchemaOrder(Thing, shuffled);
    expect(ordered).toEqual(shuffled);
    expect(JSON.stringify(ordered)).toBe(
      '{"id":"x","limits":{"low":1,"high":9},"parts":[{"a":1,"b":2}],"note":"n","tags":{"a":"2","z":"1"}}',
    );
  });

  it('keeps nulls, and leaves out absent fields and fields the schema does not name', () => {
    const value = { extra: true, parts: [], limits: null, id: 'x', tags: {} } as z.output<typeof Thing>;
    expect(JSON.stringify(inSchemaOrder(Thing, value))).toBe('{"id":"x","limits":null,"parts":[],"tags":{}}');
  });

  it('sorts the keys of what a schema leaves open at every depth: an event’s details read the same on every answer', () => {
    const event = {
      details: { revision: 2, by: { keyName: null, keyId: 'key_x' }, steps: [{ z: 1, a: 2 }] },
      at: '2026-12-06T12:00:00.000Z',
      message: 'scaled from 1 to 2 replicas',
      type: 'scaled',
      id: 'evt_x',
    };
    expect(JSON.stringify(inSchemaOrder(AppEvent, event))).toBe(
      '{"id":"evt_x","type":"scaled","message":"scaled from 1 to 2 replicas","at":"2026-12-06T12:00:00.000Z",' +
        '"details":{"by":{"keyId":"key_x","keyName":null},"revision":2,"steps":[{"a":2,"z":1}]}}',
    );
  });
});
