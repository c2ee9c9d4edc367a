export {
  type ConnectionSource,
  type ConnectionState,
  TandemProvider,
  type TandemProviderProps,
  useRepo,
} from "./provider.js"
export type { RoomSnapshot } from "./room-store.js"
export { useConnectionState } from "./use-connection-state.js"
export { type DocState, useDoc } from "./use-doc.js"
export {
  type BroadcastSender,
  type PresenceUpdate,
  useBroadcast,
  useMembers,
  usePresence,
  useRoom,
  useUsers,
} from "./use-room.js"
