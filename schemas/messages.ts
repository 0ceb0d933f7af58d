import type * as z from 'zod';

/** What a value of zod's expected type is called, when `a <type>` would not say it. */
const TYPE_NAMES: Record<string, string> = {
  array: 'an array',
  tuple: 'an array',
  int: 'a whole number',
  nan: 'a number',
  object: 'an object',
  record: 'an object',
  null: 'null',
  undefined: 'absent',
};

/** `at least 3 characters`, `more than 0`, `at most 100 items`: a bound in the unit of what it bounds. */
function bound(
  words: [inclusive: string, exclusive: string],
  limit: number | bigint,
  issue: { origin: string; inclusive?: boolean },
) {
  const unit = { string: ' character', array: ' item', set: ' item', file: ' byte' }[issue.origin];
  const plural = unit && Number(limit) !== 1 ? 's' : '';
  return `must be ${issue.inclusive === false ? words[1] : words[0]} ${limit}${unit ?? ''}${plural}`;
}

/**
 * zod's messages in the words of Berth's problems: what a field must be rather than what the parser expected
 * (`is required`, `must be a number`, `must be at least 1`). Messages a schema gives itself come first; what is not
 * mapped here keeps zod's English.
 */
export function plainMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      // A JSON number too large for a double (1e400) reads as Infinity.
      if (issue.expected === 'number' && typeof issue.input === 'number') return 'must be a finite number';
      return `must be ${TYPE_NAMES[issue.expected] ?? `a ${issue.expected}`}`;
    case 'too_small':
      if (issue.origin === 'array' && Number(issue.minimum) === 1) return 'must not be empty';
      return bound(['at least', 'more than'], issue.minimum, issue);
    case 'too_big':
      return bound(['at most', 'less than'], issue.maximum, issue);
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    default:
      return undefined;
  }
}
