import { fileURLToPath } from "node:url"
import { expect, it } from "vitest"
import { runnableExamples } from "../../../scripts/readme-examples.js"

const readme = fileURLToPath(new URL("../README.md", import.meta.url))

it("the README's document example runs as written", async () => {
  const [example] = await runnableExamples(readme)
  expect(await example?.run()).toEqual([expect.stringMatching(/^edit from peer-/), "ready"])
})

it("the README's room example runs as written", async () => {
  const [, example] = await runnableExamples(readme)
  expect(await example?.run()).toEqual([
    "Bob joined",
    "Bob and Alice are here; I am bob",
    "bob moved from 0,0 to 10,20",
    "bob waves",
    "1 peer got the wave",
  ])
})
