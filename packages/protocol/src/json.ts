import type { Json } from "@tandem/repo"

/** How deep a JSON value may nest; deeper values are refused rather than walked. */
export const MAX_JSON_DEPTH = 32

/**
 * Whether a decoded value is plain JSON: null, booleans, finite numbers, strings, arrays and
 * plain objects. Byte strings, tags, `undefined` and objects with another prototype are not.
 */
export function isJson(value: unknown, depth = 0): value is Json {
  if (value === null || typeof value === "boolean" || typeof value === "string") return true
  if (typeof value === "number") return Number.isFinite(value)
  if (typeof value !== "object" || depth >= MAX_JSON_DEPTH) return false
  if (Array.isArray(value)) return value.every((item) => isJson(item, depth + 1))
  if (Object.getPrototypeOf(value) !== Object.prototype) return false
  for (const key in value) {
    if (!isJson((value as Record<string, unknown>)[key], depth + 1)) return false
  }
  return true
}
