/**
 * Strings in code-unit order: as the table compares sort keys, and cursors with them, the same on every machine,
 * which a locale's order (`localeCompare`) is not: under an Estonian locale `z` sorts between `s` and `t`.
 */
export const codeUnitOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
