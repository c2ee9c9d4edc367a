import type { IncomingHttpHeaders } from "node:http"
import type { Identity } from "@tandem/repo"

/** What a connection offers to prove who it is. */
export interface AuthRequest {
  /** The token from the `auth` message or the `Sec-WebSocket-Protocol` header; null when none came. */
  token: string | null
  headers: IncomingHttpHeaders
  url: string
  ip: string
}

/** Who a connection is, as its credentials prove. */
export interface Authenticated {
  userId: string
  /** Everything the credentials said (a JWT's payload), for `authorize` and guards. */
  claims?: Record<string, unknown>
  /** When the credentials stop being valid (ms since the epoch): the connection must refresh by then. */
  expiresAt?: number
  /** Shown to other members beside `userId` (a display name, an avatar…). */
  profile?: Identity
}

/** The identity bound to a connection: what `authorize`, guards and server events see. */
export interface ConnectionIdentity {
  /** Absent for an anonymous connection. */
  userId?: string
  anonymous: boolean
  claims: Record<string, unknown>
  profile: Identity
  expiresAt?: number
}

export type Authenticate = (request: AuthRequest) => Authenticated | null | Promise<Authenticated | null>

/**
 * Why credentials were refused. `TOKEN_EXPIRED` and `INTERNAL` are transient (the client fetches a
 * fresh token and reconnects); `UNAUTHORIZED` is permanent (the client stops and reports it).
 */
export class AuthError extends Error {
  override readonly name = "AuthError"
  constructor(
    readonly code: "UNAUTHORIZED" | "TOKEN_EXPIRED" | "INTERNAL",
    message: string,
  ) {
    super(message)
  }
}

/** The identity members see: what the client claims for display, with `userId` from the credentials only. */
export function memberIdentity(claimed: Identity, identity: ConnectionIdentity): Identity {
  const { userId: _claimed, ...display } = claimed
  return {
    ...display,
    ...identity.profile,
    ...(identity.userId !== undefined && { userId: identity.userId }),
  }
}
