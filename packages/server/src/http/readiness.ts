import type { StorageAdapter } from "@tandem/repo"

/** A readiness check resolves when what it checks is reachable and throws (or rejects) when not. */
export type ReadinessCheck = () => Promise<void>

export interface Readiness {
  ready: boolean
  checks: Record<string, string>
}

/** Storage is reachable when it answers a read of a document that is never written. */
export function storageCheck(storage: StorageAdapter): ReadinessCheck {
  return async () => {
    await storage.load("tandem:readiness-probe")
  }
}

/** Runs every check at once; one that has not answered within `timeout` ms counts as down. */
export async function runChecks(checks: Record<string, ReadinessCheck>, timeout: number): Promise<Readiness> {
  const names = Object.keys(checks)
  const results = await Promise.all(
    names.map(async (name) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeout} ms`)), timeout)
      })
      try {
        await Promise.race([(checks[name] as ReadinessCheck)(), late])
        return "ok"
      } catch (error) {
        return error instanceof Error ? error.message : String(error)
      } finally {
        clearTimeout(timer)
      }
    }),
  )
  const entries = names.map((name, index) => [name, results[index] as string] as const)
  return { ready: entries.every(([, result]) => result === "ok"), checks: Object.fromEntries(entries) }
}
