import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"

const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url))
const run = promisify(execFile)

describe("tandem serve", () => {
  it("--help lists every option with its environment variable", async () => {
    const { stdout } = await run(process.execPath, [cli, "serve", "--help"])
    for (const [flag, variable] of [
      ["--port", "TANDEM_PORT"],
      ["--jwt-secret", "TANDEM_JWT_SECRET"],
      ["--jwt-public-key", "TANDEM_JWT_PUBLIC_KEY"],
      ["--jwks-url", "TANDEM_JWKS_URL"],
      ["--jwt-audience", "TANDEM_JWT_AUDIENCE"],
      ["--jwt-issuer", "TANDEM_JWT_ISSUER"],
      ["--jwt-algorithm", "TANDEM_JWT_ALGORITHM"],
      ["--anonymous", "TANDEM_ANONYMOUS"],
      ["--admin-token", "TANDEM_ADMIN_TOKEN"],
      ["--drain-timeout", "TANDEM_DRAIN_TIMEOUT"],
    ]) {
      expect(stdout).toMatch(new RegExp(`${flag}.*\\(${variable}`))
    }
  })

  it("refuses two key sources and a bad drain timeout with a message", async () => {
    const twoKeys = run(process.execPath, [
      cli,
      "serve",
      "--memory",
      "--jwt-secret",
      "s",
      "--jwks-url",
      "http://x",
    ])
    await expect(twoKeys).rejects.toMatchObject({ stderr: expect.stringContaining("give only one of") })
    const badDrain = run(process.execPath, [cli, "serve", "--memory", "--drain-timeout", "soon"])
    await expect(badDrain).rejects.toMatchObject({ stderr: expect.stringContaining("--drain-timeout") })
  })
})
