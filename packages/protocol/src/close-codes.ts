import type { ErrorCode } from "@tandem/repo"

/**
 * WebSocket close codes, in two bands. A *permanent* close means retrying cannot help (bad
 * credentials, a forbidden action, an unsupported protocol): the client stops and reports it.
 * A *transient* close means the client should reconnect, with backoff.
 */
export const CloseCodes = {
  /** The peer left on purpose (a goodbye). */
  NORMAL: 1000,
  /** The server is going away (transient). */
  GOING_AWAY: 1001,
  /** A frame was over the transport's size limit (permanent: the client's limit is wrong). */
  TOO_BIG: 1009,
  // Permanent: 4000–4099.
  INVALID_MESSAGE: 4000,
  UNAUTHORIZED: 4001,
  UNSUPPORTED_PROTOCOL: 4002,
  FORBIDDEN: 4003,
  MESSAGE_TOO_LARGE: 4004,
  // Transient: 4100–4199.
  SERVER_DRAINING: 4100,
  TOKEN_EXPIRED: 4101,
  RATE_LIMITED: 4102,
  TIMEOUT: 4103,
  TOO_MANY_CONNECTIONS: 4104,
  SLOW_CONSUMER: 4105,
  INTERNAL: 4199,
} as const

export type CloseCode = (typeof CloseCodes)[keyof typeof CloseCodes]

const PERMANENT = new Set<number>([
  CloseCodes.TOO_BIG,
  CloseCodes.INVALID_MESSAGE,
  CloseCodes.UNAUTHORIZED,
  CloseCodes.UNSUPPORTED_PROTOCOL,
  CloseCodes.FORBIDDEN,
  CloseCodes.MESSAGE_TOO_LARGE,
  1002, // protocol error
  1003, // unsupported data
  1007, // invalid payload
  1008, // policy violation
])

/** Whether reconnecting after this close cannot help. Unknown codes are transient. */
export function isPermanentClose(code: number): boolean {
  return PERMANENT.has(code) || (code >= 4000 && code < 4100)
}

const byError: Partial<Record<ErrorCode, CloseCode>> = {
  INVALID_MESSAGE: CloseCodes.INVALID_MESSAGE,
  UNAUTHORIZED: CloseCodes.UNAUTHORIZED,
  UNSUPPORTED_PROTOCOL: CloseCodes.UNSUPPORTED_PROTOCOL,
  FORBIDDEN: CloseCodes.FORBIDDEN,
  MESSAGE_TOO_LARGE: CloseCodes.MESSAGE_TOO_LARGE,
  SERVER_DRAINING: CloseCodes.SERVER_DRAINING,
  TOKEN_EXPIRED: CloseCodes.TOKEN_EXPIRED,
  RATE_LIMITED: CloseCodes.RATE_LIMITED,
  TIMEOUT: CloseCodes.TIMEOUT,
  INTERNAL: CloseCodes.INTERNAL,
}

const byClose = new Map<number, ErrorCode>(
  Object.entries(byError).map(([error, close]) => [close, error as ErrorCode]),
)
byClose.set(CloseCodes.TOO_BIG, "MESSAGE_TOO_LARGE")
byClose.set(CloseCodes.TOO_MANY_CONNECTIONS, "RATE_LIMITED")
byClose.set(CloseCodes.SLOW_CONSUMER, "DISCONNECTED")

export function closeCodeFor(error: ErrorCode): CloseCode {
  return byError[error] ?? CloseCodes.INTERNAL
}

/** The error code a close code stands for, if any. */
export function errorCodeFor(close: number): ErrorCode | undefined {
  return byClose.get(close)
}
