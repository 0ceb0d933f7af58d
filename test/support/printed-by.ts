import { vi } from 'vitest';

/** The lines `run` writes to stdout and stderr. */
export async function printedBy(run: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) =>
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    }),
  );
  try {
    await run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return lines;
}

/** The figures a handler put out in CloudWatch's embedded metric format, among the lines it printed. */
export const figuresIn = (lines: string[]) =>
  lines.flatMap((line) => (line.includes('"_aws"') ? [JSON.parse(line) as Record<string, unknown>] : []));
