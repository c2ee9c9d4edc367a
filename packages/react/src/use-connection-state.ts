import type { Repo } from "@tandem/repo"
import { useMemo, useSyncExternalStore } from "react"
import { type ConnectionSource, type ConnectionState, useConnectionSource, useRepo } from "./provider.js"

interface ConnectionStore {
  subscribe(onChange: () => void): () => void
  getSnapshot(): ConnectionState
}

/**
 * The connection state of the provider's `connection` (`connecting`, `open`, `reconnecting`,
 * `closed`). Without one, it is `open` while the repo has a connected peer, else `closed`.
 */
export function useConnectionState(): ConnectionState {
  const repo = useRepo()
  const source = useConnectionSource()
  const store = useMemo(() => (source ? sourceStore(source) : peerStore(repo)), [repo, source])
  return useSyncExternalStore(store.subscribe, store.getSnapshot)
}

function sourceStore(source: ConnectionSource): ConnectionStore {
  return { subscribe: (onChange) => source.on("state", onChange), getSnapshot: () => source.state }
}

function peerStore(repo: Repo): ConnectionStore {
  return {
    subscribe(onChange) {
      const offs = [repo.on("peer-connected", onChange), repo.on("peer-disconnected", onChange)]
      return () => {
        for (const off of offs) off()
      }
    },
    getSnapshot: () => (repo.getPeers().length > 0 ? "open" : "closed"),
  }
}
