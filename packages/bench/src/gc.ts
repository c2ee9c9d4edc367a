import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"

// The script runs under tsx without --expose-gc; a fresh context picks up the flag set here.
setFlagsFromString("--expose-gc")
const gc = runInNewContext("gc") as (() => void) | undefined

/**
 * Collects what the previous round left behind, so one system's garbage is not billed to the
 * next. Loro's objects free their WebAssembly memory in finalizers, which run only once the event
 * loop turns: let them run, then collect again.
 */
export async function collectGarbage(): Promise<void> {
  gc?.()
  await new Promise((resolve) => setTimeout(resolve, 10))
  gc?.()
}
