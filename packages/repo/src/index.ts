export { Bridge, BridgeAdapter, type BridgeFaults, type BridgeOptions } from "./adapters/bridge.js"
export { MemoryStorage } from "./adapters/memory-storage.js"
export type { Channel, ChannelClosed, NetworkAdapter, NetworkEvents } from "./adapters/network.js"
export type { StorageAdapter, StoredDoc } from "./adapters/storage.js"
export type { DocChange, DocStatus, SyncStatus, WhenReadyOptions } from "./docs/doc-handle.js"
export { DocHandle } from "./docs/doc-handle.js"
export { type ErrorCode, ErrorCodes, isErrorCode, TandemError } from "./errors.js"
export * from "./peer-message.js"
export type { ReportedError } from "./program/messages.js"
export { type JoinRoomOptions, Repo, type RepoEvents, type RepoOptions, type RoomOptions } from "./repo.js"
export {
  type BroadcastMessage,
  type BroadcastOptions,
  Room,
  type RoomEvents,
  type RoomMember,
  type RoomSync,
  type RoomUser,
} from "./rooms/room.js"
export type { KeepaliveOptions } from "./runtime/keepalive.js"
export type { ChannelId, DocId, Identity, Json, PeerId, PeerInfo, RoomId } from "./types.js"
