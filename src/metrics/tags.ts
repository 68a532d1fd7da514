/** A sample's tags: flow, request name, status, status class and any user tag. */
export type Tags = Readonly<Record<string, string>>;

/** A stable key for a tag set: keys sorted, so `{a,b}` and `{b,a}` are the same series. */
export function tagKey(tags: Tags): string {
  const keys = Object.keys(tags).sort();
  let out = '';
  for (const key of keys) out += `${out === '' ? '' : ','}${key}:${tags[key]}`;
  return out;
}

/** Renders `name{tag:value,…}` the way k6 writes a sub-metric (no braces without tags). */
export function subMetricName(name: string, tags: Tags): string {
  const key = tagKey(tags);
  return key === '' ? name : `${name}{${key}}`;
}

/** True when every pair of `filter` is present in `tags`. */
export function tagsMatch(tags: Tags, filter: Tags): boolean {
  for (const key in filter) if (tags[key] !== filter[key]) return false;
  return true;
}

/** `200` → `2xx`; 0 (no response) → `error`. */
export function statusClass(status: number): string {
  if (status <= 0) return 'error';
  return `${Math.floor(status / 100)}xx`;
}
