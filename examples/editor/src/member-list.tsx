import type { RoomMember } from "@tandem/repo"
import type { EditorPresence } from "./presence.js"

export function MemberList({ members }: { members: RoomMember<EditorPresence>[] }) {
  return (
    <ul className="members" aria-label="Who is here">
      {members.map((member) => (
        <li key={member.peerId} data-peer={member.peerId}>
          <span className="swatch" style={{ background: member.presence?.colour }} />
          {member.presence?.name ?? "Someone"}
          {member.self ? " (you)" : ""}
        </li>
      ))}
    </ul>
  )
}
