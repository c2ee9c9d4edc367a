import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { expect, it } from "vitest"

const dir = fileURLToPath(new URL("..", import.meta.url))

it("the cluster example starts Redis and three relays, and its clients converge across them", async () => {
  const child = spawn(
    process.execPath,
    ["--conditions=source", "--import", "tsx", "src/start.ts", "--ports", "0,0,0", "--once"],
    { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
  )
  let output = ""
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString()
  })
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve))
  expect(output).toContain("converged: every client sees every member and every line")
  expect(output).toMatch(/joined the service cluster-example/)
  expect(code).toBe(0)
})
