/**
 * The `setData` path keys that turn one JSON value into another, for the parts of a reply that change
 * per frame (mp-html's lesson: send the changed paths, never the tree).
 *
 * Contract of `diffPaths(path, before, after, out)`: after applying `out` to a view holding `before` at
 * `path`, the view holds (a value deep-equal to) `after`. Equal values add nothing. Objects with the same
 * keys and arrays that did not shrink are descended into (`a.b[3].text`); anything else — a changed
 * primitive, a new key, a shrunk array — is sent whole at its path. Cost is linear in the size of the
 * two values, which for a reply is the open block only: finished blocks are never diffed.
 */

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sameKeys(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const ak = Object.keys(a);
  const bk = Object.keys(b);
  return ak.length === bk.length && ak.every((key) => Object.prototype.hasOwnProperty.call(b, key));
}

export function diffPaths(path: string, before: unknown, after: unknown, out: Record<string, unknown>): void {
  if (before === after) return;
  if (Array.isArray(before) && Array.isArray(after) && after.length >= before.length) {
    after.forEach((item, index) => {
      const at = `${path}[${index}]`;
      if (index < before.length) diffPaths(at, before[index], item, out);
      else out[at] = item;
    });
    return;
  }
  if (isObject(before) && isObject(after) && sameKeys(before, after)) {
    for (const key of Object.keys(after)) diffPaths(`${path}.${key}`, before[key], after[key], out);
    return;
  }
  out[path] = after;
}
