/**
 * Name patterns for guards: `*` matches any run of characters (none included), everything else
 * matches itself. Among the patterns that match a name, the most specific wins: the one with the
 * most literal characters, then the fewest wildcards, then the one listed first. So `team-a` beats
 * `team-*`, which beats `team*` and `*`.
 */
export function mostSpecificMatch(patterns: readonly string[], name: string): string | undefined {
  let best: { pattern: string; literal: number; wildcards: number } | undefined
  for (const pattern of patterns) {
    if (!matches(pattern, name)) continue
    const wildcards = pattern.split("*").length - 1
    const literal = pattern.length - wildcards
    if (!best || literal > best.literal || (literal === best.literal && wildcards < best.wildcards)) {
      best = { pattern, literal, wildcards }
    }
  }
  return best?.pattern
}

export function matches(pattern: string, name: string): boolean {
  const parts = pattern.split("*")
  if (parts.length === 1) return pattern === name
  const first = parts[0] as string
  const last = parts[parts.length - 1] as string
  if (name.length < first.length + last.length) return false
  if (!name.startsWith(first) || !name.endsWith(last)) return false
  let at = first.length
  const end = name.length - last.length
  for (const middle of parts.slice(1, -1)) {
    const found = name.indexOf(middle, at)
    if (found < 0 || found + middle.length > end) return false
    at = found + middle.length
  }
  return true
}
