/**
 * Every error Tandem reports carries one of these codes. The same table is used on the wire,
 * in thrown errors and in events, so a client can branch on `error.code` wherever it meets one.
 */
export const ErrorCodes = {
  /** A frame or message could not be decoded or failed validation. */
  INVALID_MESSAGE: "INVALID_MESSAGE",
  /** The peer speaks a protocol version this side does not accept. */
  UNSUPPORTED_PROTOCOL: "UNSUPPORTED_PROTOCOL",
  /** No valid credentials. */
  UNAUTHORIZED: "UNAUTHORIZED",
  /** The credentials were valid but the action is not allowed. */
  FORBIDDEN: "FORBIDDEN",
  /** The credentials expired; refresh them and reconnect. */
  TOKEN_EXPIRED: "TOKEN_EXPIRED",
  /** A room operation that needs membership came from a non-member. */
  NOT_IN_ROOM: "NOT_IN_ROOM",
  /** The room already has its maximum number of members. */
  ROOM_FULL: "ROOM_FULL",
  /** The connection joined its maximum number of rooms. */
  TOO_MANY_ROOMS: "TOO_MANY_ROOMS",
  /** A frame or broadcast payload exceeds the configured limit. */
  MESSAGE_TOO_LARGE: "MESSAGE_TOO_LARGE",
  /** A presence value exceeds the configured limit. */
  PRESENCE_TOO_LARGE: "PRESENCE_TOO_LARGE",
  /** The sender exceeded its message rate. */
  RATE_LIMITED: "RATE_LIMITED",
  /** No storage and no connected peer has the document. */
  DOC_UNAVAILABLE: "DOC_UNAVAILABLE",
  /** The document was deleted. */
  DOC_DELETED: "DOC_DELETED",
  /** The document was closed: get it again from the repo to use it. */
  DOC_CLOSED: "DOC_CLOSED",
  /** A wait ran past its deadline. */
  TIMEOUT: "TIMEOUT",
  /** The operation was aborted by its caller (an AbortSignal). */
  ABORTED: "ABORTED",
  /** The repo was shut down while the operation was pending. */
  SHUTDOWN: "SHUTDOWN",
  /** The connection to the peer closed before the operation completed. */
  DISCONNECTED: "DISCONNECTED",
  /** Storage failed to read or write. */
  STORAGE_FAILED: "STORAGE_FAILED",
  /** The server is shutting down; reconnect elsewhere. */
  SERVER_DRAINING: "SERVER_DRAINING",
  /** A bug on the other side; the message names it. */
  INTERNAL: "INTERNAL",
} as const

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes]

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ErrorCodes, value)
}

/** An error with a code from {@link ErrorCodes} and a message a user can act on. */
export class TandemError extends Error {
  override readonly name = "TandemError"
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message)
  }
}
