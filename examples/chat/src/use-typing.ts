import { useBroadcast } from "@tandem/react"
import type { Room } from "@tandem/repo"
import { useEffect, useReducer } from "react"
import type { ChatPresence } from "./presence.js"
import { nextTyping, type Typing } from "./typing.js"

const nobody: Typing = new Map()

/** Who is typing in the room, from "typing" and "stopped-typing" broadcasts. */
export function useTyping(room: Room<ChatPresence>): Typing {
  const [typing, dispatch] = useReducer(nextTyping, nobody)
  useBroadcast(room, "typing", ({ from, payload }) => {
    const name =
      typeof payload === "object" && payload && "name" in payload ? String(payload.name) : "Someone"
    dispatch({ type: "typing", peerId: from, name, now: Date.now() })
  })
  useBroadcast(room, "stopped-typing", ({ from }) => dispatch({ type: "stopped", peerId: from }))
  useEffect(
    () => room.on("member-left", (member) => dispatch({ type: "left", peerId: member.peerId })),
    [room],
  )
  const anyone = typing.size > 0
  useEffect(() => {
    if (!anyone) return
    const timer = setInterval(() => dispatch({ type: "tick", now: Date.now() }), 500)
    return () => clearInterval(timer)
  }, [anyone])
  return typing
}
