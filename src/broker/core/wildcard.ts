/** ActiveMQ destination wildcards: `.` separates elements, `*` matches one element, `>` the rest. */

export function isWildcard(name: string): boolean {
  return name.split('.').some((part) => part === '*' || part === '>');
}

export function matchesWildcard(pattern: string, name: string): boolean {
  if (pattern === name) return true;
  const p = pattern.split('.');
  const n = name.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return true;
    if (i >= n.length) return false;
    if (p[i] !== '*' && p[i] !== n[i]) return false;
  }
  return p.length === n.length;
}

/** A wildcard subscription reaches the destinations it matches, never a connection's temporary destination. */
export function wildcardReaches(pattern: string, dest: { readonly name: string; readonly temporary: boolean }): boolean {
  return !dest.temporary && matchesWildcard(pattern, dest.name);
}
