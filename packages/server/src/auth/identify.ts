import { AuthError, type Authenticate, type AuthRequest, type ConnectionIdentity } from "./identity.js"
import { type JwtOptions, jwtAuthenticator } from "./jwt.js"

export interface AuthOptions {
  /** Verify JWTs (HMAC secret, public key or JWKS URL; audience and issuer). */
  jwt?: JwtOptions
  /**
   * Anything else (API keys, session cookies…): return who the request is, or null when the
   * credentials are not this hook's to judge. Throw an `AuthError` to refuse. Tried before `jwt`.
   */
  authenticate?: Authenticate
  /** Connections that bring no credentials get in, as anonymous (default false). */
  anonymous?: boolean
  /** A connection must finish its handshake within this long (ms, default 10 s). */
  handshakeTimeout?: number
  /**
   * What a connection may send before it is authenticated (bytes, default 16 KiB): its handshake,
   * and at most 30 messages sent behind it, held until the handshake is done.
   */
  handshakeBytes?: number
}

/**
 * Turns the configured authenticators into one function. Without any (no `jwt`, no `authenticate`)
 * the relay is open: every connection is anonymous and tokens are ignored.
 */
export function createIdentify(
  options: AuthOptions | undefined,
): (request: AuthRequest) => Promise<ConnectionIdentity> {
  const authenticators: Authenticate[] = []
  if (options?.authenticate) authenticators.push(options.authenticate)
  if (options?.jwt) authenticators.push(jwtAuthenticator(options.jwt))
  const open = authenticators.length === 0
  const anonymous = open || options?.anonymous === true
  return async (request) => {
    if (!open) {
      for (const authenticate of authenticators) {
        const found = await authenticate(request)
        if (found) {
          return {
            userId: found.userId,
            anonymous: false,
            claims: found.claims ?? {},
            profile: found.profile ?? {},
            ...(found.expiresAt !== undefined && { expiresAt: found.expiresAt }),
          }
        }
      }
      // A token nobody accepts is refused, never quietly downgraded to anonymous.
      if (request.token !== null) throw new AuthError("UNAUTHORIZED", "the credentials were not accepted")
    }
    if (anonymous) return { anonymous: true, claims: {}, profile: {} }
    throw new AuthError("UNAUTHORIZED", "this relay needs credentials (give the client a getToken)")
  }
}

/** The token a client may carry in `Sec-WebSocket-Protocol`, as `tandem-token.<token>` beside `tandem`. */
export function tokenFromProtocols(header: string | undefined): string | null {
  if (!header) return null
  for (const offered of header.split(",")) {
    const value = offered.trim()
    if (value.startsWith("tandem-token.")) return value.slice("tandem-token.".length) || null
  }
  return null
}
