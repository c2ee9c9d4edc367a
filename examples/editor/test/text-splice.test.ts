import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { applySplice, spliceBetween } from "../src/text-splice.js"

describe("spliceBetween", () => {
  it.each([
    ["typing at the end", "ab", "abc", 3, { index: 2, remove: 0, insert: "c" }],
    ["typing in the middle", "ac", "abc", 2, { index: 1, remove: 0, insert: "b" }],
    ["a repeated letter, typed where the caret is", "aa", "aaa", 2, { index: 1, remove: 0, insert: "a" }],
    ["backspace in a run of one letter", "aaa", "aa", 1, { index: 1, remove: 1, insert: "" }],
    ["replacing a selection", "hello world", "hello there", 11, { index: 6, remove: 5, insert: "there" }],
    ["pasting over everything", "abc", "xyz", 3, { index: 0, remove: 3, insert: "xyz" }],
    ["an emoji after an emoji", "😀", "😀😃", 4, { index: 2, remove: 0, insert: "😃" }],
  ])("%s", (_, before, after, caret, expected) => {
    expect(spliceBetween(before, after, caret)).toEqual(expected)
  })

  it("finds nothing when nothing changed", () => {
    expect(spliceBetween("same", "same", 2)).toBeNull()
  })

  // Applying the splice to the text before always gives the text after, wherever the caret is.
  it("applying the splice gives the new text", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.nat(), (before, after, caret) => {
        const splice = spliceBetween(before, after, caret % (after.length + 1))
        expect(splice ? applySplice(before, splice) : before).toBe(after)
      }),
    )
  })
})
