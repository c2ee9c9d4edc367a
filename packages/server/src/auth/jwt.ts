import {
  createRemoteJWKSet,
  errors,
  importSPKI,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose"
import { AuthError, type Authenticate, type Authenticated } from "./identity.js"

export interface JwtOptions {
  /** A shared HMAC secret (HS256/384/512). */
  secret?: string | Uint8Array
  /** A PEM public key (SPKI) for RS*, PS* or ES* tokens; `algorithms[0]` names its algorithm. */
  publicKey?: string
  /** A JWKS endpoint the keys are fetched from (and cached; rotated keys are fetched again). */
  jwksUrl?: string
  /** Accepted algorithms (default: HS256 with a secret, RS256 with a public key, any with JWKS). */
  algorithms?: string[]
  audience?: string | string[]
  issuer?: string | string[]
  /** The claim that holds the user id (default `sub`). */
  userIdClaim?: string
  /** Seconds of clock difference tolerated on `exp` and `nbf` (default 5). */
  clockTolerance?: number
}

/** Verifies JWTs with `jose`: signature, expiry, audience and issuer. */
export function jwtAuthenticator(options: JwtOptions): Authenticate {
  const sources = [options.secret, options.publicKey, options.jwksUrl].filter((s) => s !== undefined)
  if (sources.length !== 1)
    throw new Error("JWT verification needs exactly one of secret, publicKey and jwksUrl")
  const algorithms =
    options.algorithms ??
    (options.secret !== undefined ? ["HS256"] : options.publicKey ? ["RS256"] : undefined)
  const key = keyFor(options, algorithms)
  const claim = options.userIdClaim ?? "sub"
  return async ({ token }) => {
    if (token === null) return null
    let payload: JWTPayload
    try {
      const verified = await jwtVerify(token, (await key) as JWTVerifyGetKey, {
        ...(algorithms && { algorithms }),
        ...(options.audience !== undefined && { audience: options.audience }),
        ...(options.issuer !== undefined && { issuer: options.issuer }),
        clockTolerance: options.clockTolerance ?? 5,
      })
      payload = verified.payload
    } catch (error) {
      throw refusal(error)
    }
    const userId = payload[claim]
    if (typeof userId !== "string" || userId.length === 0 || userId.length > 256)
      throw new AuthError("UNAUTHORIZED", `the token has no usable ${claim} claim`)
    const result: Authenticated = { userId, claims: payload }
    if (typeof payload.exp === "number") result.expiresAt = payload.exp * 1000
    if (typeof payload.name === "string") result.profile = { name: payload.name }
    return result
  }
}

function keyFor(options: JwtOptions, algorithms: string[] | undefined): Promise<unknown> {
  if (options.secret !== undefined) {
    const secret = options.secret
    return Promise.resolve(typeof secret === "string" ? new TextEncoder().encode(secret) : secret)
  }
  if (options.publicKey !== undefined) return importSPKI(options.publicKey, algorithms?.[0] ?? "RS256")
  return Promise.resolve(createRemoteJWKSet(new URL(options.jwksUrl as string)))
}

function refusal(error: unknown): AuthError {
  if (error instanceof errors.JWTExpired) return new AuthError("TOKEN_EXPIRED", "the token expired")
  // The key server being unreachable says nothing about the token: the client may try again.
  if (error instanceof errors.JWKSTimeout || (error instanceof Error && error.name === "TypeError"))
    return new AuthError("INTERNAL", "the signing keys could not be fetched")
  if (error instanceof errors.JOSEError) return new AuthError("UNAUTHORIZED", `invalid token: ${error.code}`)
  return new AuthError("UNAUTHORIZED", "invalid token")
}
