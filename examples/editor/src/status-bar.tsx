import type { ConnectionState } from "@tandem/react"
import type { SyncStatus } from "@tandem/repo"

const connectionLabels: Record<ConnectionState, string> = {
  connecting: "Connecting…",
  open: "Online",
  reconnecting: "Offline, reconnecting…",
  closed: "Offline",
}

export type SaveState = "saved" | "local" | "saving"

/** Saved on the relay, kept on this device only (offline), or not yet written anywhere. */
export function saveState(syncStatus: SyncStatus, storedLocally: boolean): SaveState {
  if (syncStatus === "saved") return "saved"
  return storedLocally ? "local" : "saving"
}

const saveLabels: Record<SaveState, string> = {
  saved: "All changes saved",
  local: "Saved on this device; syncs when online",
  saving: "Saving…",
}

export function StatusBar({ connection, save }: { connection: ConnectionState; save: SaveState }) {
  return (
    <footer className="status-bar">
      <span className="connection" data-state={connection}>
        <span className="dot" /> {connectionLabels[connection]}
      </span>
      <span className="saved" data-state={save}>
        {saveLabels[save]}
      </span>
    </footer>
  )
}
