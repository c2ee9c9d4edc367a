import { randomBytes } from "node:crypto"

export function randomId(): string {
  return randomBytes(6).toString("hex")
}
