/** What a tab needs to know, from its address (`?relay=…&doc=…&name=…`) or defaults. */
export interface Settings {
  relay: string
  docId: string
  name: string
  /** Per tab, kept across reloads, so a reload is not seen as a leave and a join. */
  peerId: string
}

const names = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Radia", "Tim"]

export function readSettings(defaultRelay: string): Settings {
  const params = new URLSearchParams(location.search)
  return {
    relay: params.get("relay") ?? defaultRelay,
    docId: params.get("doc") ?? "welcome",
    name: params.get("name") ?? remembered("tandem-name", localStorage, () => pick(names)),
    peerId: remembered("tandem-peer", sessionStorage, () => `tab-${crypto.randomUUID().slice(0, 8)}`),
  }
}

function remembered(key: string, storage: Storage, make: () => string): string {
  const known = storage.getItem(key)
  if (known) return known
  const value = make()
  storage.setItem(key, value)
  return value
}

function pick<T>(values: T[]): T {
  return values[Math.floor(Math.random() * values.length)] as T
}

/** A colour per peer, the same on every screen. */
export function colourOf(peerId: string): string {
  let hash = 0
  for (const char of peerId) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) >>> 0
  return `hsl(${hash % 360} 70% 45%)`
}
