import type { RoomMember } from "@tandem/repo"
import type { LoroDoc } from "loro-crdt"
import type { EditorPresence } from "./presence.js"
import { placeSelection } from "./selection-cursors.js"

/**
 * Every other member's caret and selection, drawn over the textarea: one transparent copy of the
 * text per member, laid out exactly as the textarea lays it out, with the selection marked and a
 * caret with the member's name at its head.
 */
export function RemoteSelections(props: {
  doc: LoroDoc
  text: string
  members: RoomMember<EditorPresence>[]
}) {
  const { doc, text, members } = props
  return (
    <div className="overlays" aria-hidden="true">
      {members.map((member) => {
        const selection = member.presence?.selection
        if (member.self || !selection) return null
        const place = placeSelection(doc, selection)
        if (!place) return null
        const start = Math.min(place.anchor, place.head, text.length)
        const end = Math.min(Math.max(place.anchor, place.head), text.length)
        const colour = member.presence?.colour ?? "gray"
        const caret = (
          <span className="caret" style={{ borderColor: colour }}>
            <span className="caret-label" style={{ background: colour }}>
              {member.presence?.name}
            </span>
          </span>
        )
        const caretAtStart = place.head <= place.anchor
        return (
          <div key={member.peerId} className="text-layout overlay" data-remote={member.presence?.name}>
            {text.slice(0, start)}
            {caretAtStart && caret}
            <mark
              className="remote-selection"
              style={{ background: `color-mix(in srgb, ${colour} 25%, transparent)` }}
            >
              {text.slice(start, end)}
            </mark>
            {!caretAtStart && caret}
            {text.slice(end)}
            {"\u200b"}
          </div>
        )
      })}
    </div>
  )
}
