import type { RoomUser } from "@tandem/repo"
import type { ChatPresence } from "./presence.js"

/** One line per user, however many tabs they have open in the channel. */
export function MemberList({ users }: { users: RoomUser<ChatPresence>[] }) {
  return (
    <aside aria-label="Members">
      <h2>Here now</h2>
      <ul className="users">
        {users.map((user) => {
          const me = user.members.some((member) => member.self)
          const name = user.members[0]?.presence?.name ?? "Someone"
          const tabs = user.members.length
          return (
            <li key={user.key} data-user={user.userId}>
              <span className="online" />
              {name}
              {me ? " (you)" : ""}
              {tabs > 1 && <span className="tabs"> · {tabs} tabs</span>}
            </li>
          )
        })}
      </ul>
    </aside>
  )
}
