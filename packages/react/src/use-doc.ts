import type { DocHandle, DocStatus, SyncStatus } from "@tandem/repo"
import type { Container, LoroDoc } from "loro-crdt"
import { useSyncExternalStore } from "react"
import { useRepo } from "./provider.js"

export interface DocState<T extends Record<string, Container>> {
  handle: DocHandle<T>
  doc: LoroDoc<T>
  /** `loading`, then `ready` or `unavailable` (nobody had it: a new document), or `deleted`. */
  status: DocStatus
  /** `saved` once every change made here is acknowledged by the relay, else `saving`. */
  syncStatus: SyncStatus
  /** Counts the changes seen, local and remote: a new value on every change of the document. */
  version: number
}

interface DocStore {
  subscribe(onChange: () => void): () => void
  getSnapshot(): DocState<Record<string, Container>>
}

const stores = new WeakMap<DocHandle, DocStore>()

/** One store per handle, shared by every component that shows the document. */
function storeFor(handle: DocHandle): DocStore {
  let store = stores.get(handle)
  if (store) return store
  const read = (version: number): DocState<Record<string, Container>> => ({
    handle,
    doc: handle.doc,
    status: handle.status,
    syncStatus: handle.syncStatus,
    version,
  })
  let snapshot = read(0)
  const listeners = new Set<() => void>()
  let stop: (() => void) | null = null
  const changed = () => {
    snapshot = read(snapshot.version + 1)
    for (const listener of listeners) listener()
  }
  store = {
    subscribe(onChange) {
      listeners.add(onChange)
      if (!stop) {
        const offs = [
          handle.on("change", changed),
          handle.on("status", changed),
          handle.on("sync-status", changed),
        ]
        stop = () => {
          for (const off of offs) off()
        }
        // Whatever happened between the render and this subscription.
        if (snapshot.status !== handle.status || snapshot.syncStatus !== handle.syncStatus) changed()
      }
      return () => {
        listeners.delete(onChange)
        if (listeners.size === 0) {
          stop?.()
          stop = null
        }
      }
    },
    getSnapshot: () => snapshot,
  }
  stores.set(handle, store)
  return store
}

/**
 * A document of the repo, re-rendering the component on every change (local or remote) and on
 * every change of its status or saved state. Read the document during render:
 * `useDoc(id).doc.getText("body").toString()`. The document stays open in the repo after the
 * component unmounts (`handle.close()` frees it).
 */
export function useDoc<T extends Record<string, Container> = Record<string, Container>>(
  docId: string,
): DocState<T> {
  const repo = useRepo()
  // The same handle for the same id; a handle closed elsewhere is replaced by a fresh one.
  const handle = repo.get<T>(docId)
  const store = storeFor(handle as unknown as DocHandle)
  return useSyncExternalStore(store.subscribe, store.getSnapshot) as unknown as DocState<T>
}
