import type { ConnectionIdentity } from "../auth/identity.js"
import { mostSpecificMatch } from "./patterns.js"

export type Action =
  | "doc:read"
  | "doc:write"
  | "doc:delete"
  | "room:join"
  | "room:presence"
  | "room:broadcast"

export const actions: readonly Action[] = [
  "doc:read",
  "doc:write",
  "doc:delete",
  "room:join",
  "room:presence",
  "room:broadcast",
]

export type AccessRequest =
  | { identity: ConnectionIdentity; action: "doc:read" | "doc:write" | "doc:delete"; docId: string }
  | { identity: ConnectionIdentity; action: "room:join" | "room:presence" | "room:broadcast"; roomId: string }

/** `true` / `false`, or a decision with the reason the client is told. */
export type Decision = boolean | { allow: boolean; reason?: string }

export type Guard = (request: AccessRequest) => Decision | Promise<Decision>

export interface AccessOptions {
  /** Decides for every document and room no guard covers. */
  authorize?: Guard
  /** Guards by document or room name pattern (`"team-*"`); the most specific matching pattern decides. */
  guards?: Record<string, Guard>
}

export interface Verdict {
  allow: boolean
  reason: string
}

/**
 * The access policy: the guard of the most specific pattern matching the name decides; without
 * one, `authorize`; without that, the action is allowed. A guard that throws denies.
 */
export function createPolicy(options: AccessOptions = {}): (request: AccessRequest) => Promise<Verdict> {
  const guards = options.guards ?? {}
  const patterns = Object.keys(guards)
  return async (request) => {
    const name = "docId" in request ? request.docId : request.roomId
    const pattern = mostSpecificMatch(patterns, name)
    const guard = pattern !== undefined ? guards[pattern] : options.authorize
    if (!guard) return { allow: true, reason: "" }
    try {
      return verdictOf(await guard(request), request.action, name)
    } catch {
      return { allow: false, reason: `${request.action} on ${name} could not be checked` }
    }
  }
}

function verdictOf(decision: Decision, action: Action, name: string): Verdict {
  const allow = typeof decision === "boolean" ? decision : decision.allow === true
  const reason = typeof decision === "object" ? decision.reason : undefined
  return { allow, reason: reason ?? (allow ? "" : `${action} on ${name} is not allowed`) }
}
