/** Random identifiers. `crypto.getRandomValues` exists in browsers and in Node 20. */

export function randomId(bytes = 12): string {
  const buffer = crypto.getRandomValues(new Uint8Array(bytes))
  let out = ""
  for (const byte of buffer) out += byte.toString(16).padStart(2, "0")
  return out
}

/** A random 64-bit Loro peer id. Loro reserves none, so any value will do. */
export function randomLoroPeerId(): bigint {
  return crypto.getRandomValues(new BigUint64Array(1))[0] as bigint
}
