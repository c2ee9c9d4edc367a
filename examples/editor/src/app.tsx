import { useConnectionState, useDoc, useMembers, usePresence, useRepo, useRoom } from "@tandem/react"
import { useCallback } from "react"
import { MemberList } from "./member-list.js"
import type { EditorPresence } from "./presence.js"
import { RemoteSelections } from "./remote-selections.js"
import { shareSelection } from "./selection-cursors.js"
import { StatusBar, saveState } from "./status-bar.js"
import { TEXT, TextEditor } from "./text-editor.js"
import { useStoredLocally } from "./use-stored-locally.js"

export function App({ docId, me }: { docId: string; me: Omit<EditorPresence, "selection"> }) {
  const repo = useRepo()
  const { handle, doc, status, syncStatus } = useDoc(docId)
  // The room has the document's id: whoever has the document open is in it.
  const room = useRoom<EditorPresence>(`doc:${docId}`, { ...me, selection: null })
  const members = useMembers(room)
  const [, setPresence] = usePresence(room)
  const connection = useConnectionState()
  const storedLocally = useStoredLocally(repo, handle)
  const text = doc.getText(TEXT).toString()

  const onSelection = useCallback(
    (anchor: number, head: number) =>
      setPresence({ selection: shareSelection(doc.getText(TEXT), anchor, head) }),
    [doc, setPresence],
  )

  return (
    <main>
      <header>
        <h1>{docId}</h1>
        <MemberList members={members} />
      </header>
      {status === "loading" ? (
        <p className="loading">Loading…</p>
      ) : (
        <TextEditor handle={handle} doc={doc} text={text} onSelection={onSelection}>
          <RemoteSelections doc={doc} text={text} members={members} />
        </TextEditor>
      )}
      <StatusBar connection={connection} save={saveState(syncStatus, storedLocally)} />
    </main>
  )
}
