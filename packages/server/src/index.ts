export type { AccessOptions, AccessRequest, Action, Decision, Guard } from "./access/authorize.js"
export { matches, mostSpecificMatch } from "./access/patterns.js"
export type { AuthOptions } from "./auth/identify.js"
export {
  AuthError,
  type Authenticate,
  type Authenticated,
  type AuthRequest,
  type ConnectionIdentity,
} from "./auth/identity.js"
export { type JwtOptions, jwtAuthenticator } from "./auth/jwt.js"
export type { ConnectionInfo } from "./gate/access-gate.js"
export type { ReadinessCheck } from "./http/readiness.js"
export type { RedisServiceOptions } from "./redis.js"
export {
  createServer,
  type MemberSummary,
  type RelayLimits,
  type RoomSummary,
  type ServerEvents,
  type ServerOptions,
  type ServerStats,
  type TandemServer,
} from "./server.js"
