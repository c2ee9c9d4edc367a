import type { DocHandle, Repo } from "@tandem/repo"
import { useEffect, useState } from "react"

/**
 * Whether every change made here is in this browser's storage (IndexedDB): what an offline user
 * needs to know before closing the tab. The repo writes changes after its `saveDelay`; `flush`
 * resolves once they are written.
 */
export function useStoredLocally(repo: Repo, handle: DocHandle): boolean {
  const [stored, setStored] = useState(true)
  useEffect(() => {
    let latest = 0
    let active = true
    const off = handle.on("change", ({ local }) => {
      if (!local) return
      const change = ++latest
      setStored(false)
      repo.flush().then(
        () => active && change === latest && setStored(true),
        () => active && change === latest && setStored(false),
      )
    })
    return () => {
      active = false
      off()
    }
  }, [repo, handle])
  return stored
}
