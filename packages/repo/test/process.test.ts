import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

describe("process lifetime", () => {
  it("a Node process exits by itself once its repos are shut down", async () => {
    const script = fileURLToPath(new URL("./fixtures/exits-after-shutdown.mjs", import.meta.url))
    // If a timer or socket survived shutdown the child would never exit and the test would time out.
    const output = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [script], (error, stdout) => (error ? reject(error) : resolve(stdout)))
    })
    expect(output.trim()).toBe("shut down")
  })
})
