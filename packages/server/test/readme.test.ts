import { fileURLToPath } from "node:url"
import { expect, it } from "vitest"
import { runnableExamples } from "../../../scripts/readme-examples.js"

const readme = fileURLToPath(new URL("../README.md", import.meta.url))

it("the README's example runs as written", async () => {
  const [example] = await runnableExamples(readme)
  expect(await example?.run()).toEqual(["hello from alice", "notes"])
})

it("the README's authentication example runs as written", async () => {
  const [, example] = await runnableExamples(readme)
  expect(await example?.run()).toEqual([
    "ada (Ada)",
    "FORBIDDEN",
    JSON.stringify({ rooms: [{ roomId: "team-blue-standup", members: 1, users: 1 }] }),
  ])
})
