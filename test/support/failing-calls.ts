/**
 * `of` with every call of `method` failing with `error`, all else as it is: a dependency that fails under the code
 * that uses it (the table unavailable, say).
 */
export function failingCalls<T extends object>(of: T, method: keyof T, error: Error): T {
  return Object.assign(Object.create(of) as T, { [method]: () => Promise.reject(error) });
}
