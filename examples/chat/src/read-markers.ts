import { useCallback, useSyncExternalStore } from "react"

/**
 * How many messages of each channel this user has read, in localStorage: every tab of the user
 * shares it, and reading a channel in one tab clears its unread marker in the others (the
 * `storage` event).
 */
const key = (userId: string) => `tandem-chat-read:${userId}`
const listeners = new Set<() => void>()
const cache = new Map<string, { raw: string | null; value: Record<string, number> }>()

function read(userId: string): Record<string, number> {
  const raw = localStorage.getItem(key(userId))
  const cached = cache.get(userId)
  if (cached && cached.raw === raw) return cached.value
  let value: Record<string, number> = {}
  try {
    value = raw ? (JSON.parse(raw) as Record<string, number>) : {}
  } catch {
    value = {}
  }
  cache.set(userId, { raw, value })
  return value
}

function subscribe(onChange: () => void): () => void {
  listeners.add(onChange)
  window.addEventListener("storage", onChange)
  return () => {
    listeners.delete(onChange)
    window.removeEventListener("storage", onChange)
  }
}

/** The read counts of every channel, and a function that marks a channel read up to a count. */
export function useReadMarkers(
  userId: string,
): [Record<string, number>, (channel: string, count: number) => void] {
  const markers = useSyncExternalStore(subscribe, () => read(userId))
  const markRead = useCallback(
    (channel: string, count: number) => {
      const current = read(userId)
      if ((current[channel] ?? 0) >= count) return // read markers only move forward
      localStorage.setItem(key(userId), JSON.stringify({ ...current, [channel]: count }))
      for (const listener of listeners) listener()
    },
    [userId],
  )
  return [markers, markRead]
}
