/**
 * JSON-shaped records keyed by names that come from users (models, tasks). A plain `record[name]` lookup finds
 * Object.prototype's members (`toString`, `constructor`) and an assignment to `record['__proto__']` replaces the
 * prototype instead of adding a key: these helpers treat every name as data.
 */

/** A record with one own property per entry, `__proto__` included (Object.fromEntries defines, never assigns). */
export function recordOf<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  return Object.fromEntries(entries) as Record<string, T>;
}

/** The record's own value for `key`, or undefined: inherited members never count. */
export function ownValue<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}
