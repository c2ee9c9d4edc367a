import type { Command } from "./commands.js"
import type { Model } from "./model.js"

/** What `update` returns: the next model and what to do. */
export type Step = readonly [Model, readonly Command[]]

export function unchanged(model: Model): Step {
  return [model, []]
}
