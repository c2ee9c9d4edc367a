import type { Repo } from "@tandem/repo"
import { useSyncExternalStore } from "react"
import { type ConnectionState, useConnectionSource, useRepo } from "./provider.js"

/**
 * The connection state of the provider's `connection` (`connecting`, `open`, `reconnecting`,
 * `closed`). Without one, it is `open` while the repo has a connected peer, else `closed`.
 */
export function useConnectionState(): ConnectionState {
  const repo = useRepo()
  const source = useConnectionSource()
  const subscribe = source ? (onChange: () => void) => source.on("state", onChange) : peerSubscription(repo)
  const read = source ? () => source.state : () => (repo.getPeers().length > 0 ? "open" : "closed")
  return useSyncExternalStore(subscribe, read)
}

const subscriptions = new WeakMap<Repo, (onChange: () => void) => () => void>()

function peerSubscription(repo: Repo): (onChange: () => void) => () => void {
  let subscribe = subscriptions.get(repo)
  if (!subscribe) {
    subscribe = (onChange) => {
      const offs = [repo.on("peer-connected", onChange), repo.on("peer-disconnected", onChange)]
      return () => {
        for (const off of offs) off()
      }
    }
    subscriptions.set(repo, subscribe)
  }
  return subscribe
}
