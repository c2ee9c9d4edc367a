/** What a tab needs to know, from its address (`?relay=…&user=…&name=…`) or what it remembers. */
export interface Settings {
  relay: string
  /** The same in every tab of this browser (localStorage): one user, several tabs. */
  userId: string
  name: string
  /** Per tab, kept across reloads, so a reload is not seen as a leave and a join. */
  peerId: string
  channel: string
}

const names = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Radia", "Tim"]

export function readSettings(defaultRelay: string): Settings {
  const params = new URLSearchParams(location.search)
  return {
    relay: params.get("relay") ?? defaultRelay,
    userId: params.get("user") ?? remembered("tandem-chat-user", localStorage, () => `user-${randomId()}`),
    name: params.get("name") ?? remembered("tandem-chat-name", localStorage, () => pick(names)),
    peerId: remembered("tandem-chat-peer", sessionStorage, () => `tab-${randomId()}`),
    channel: params.get("channel") ?? "general",
  }
}

function remembered(key: string, storage: Storage, make: () => string): string {
  const known = storage.getItem(key)
  if (known) return known
  const value = make()
  storage.setItem(key, value)
  return value
}

function randomId(): string {
  return crypto.randomUUID().slice(0, 8)
}

function pick<T>(values: T[]): T {
  return values[Math.floor(Math.random() * values.length)] as T
}
