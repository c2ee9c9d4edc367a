/** One edit that turns a text into another: remove `remove` characters at `index`, insert `insert`. */
export interface Splice {
  index: number
  remove: number
  insert: string
}

/**
 * The edit a textarea's `input` made, found by comparing the text before and after. Where the
 * answer is ambiguous (typing "a" into "aa"), the edit that ends at the caret is the one the user
 * made, so remote cursors next to it stay where they belong. Indexes are UTF-16, as in the DOM and
 * in `LoroText`; an edit never splits a surrogate pair.
 */
export function spliceBetween(before: string, after: string, caret?: number): Splice | null {
  if (before === after) return null
  const common = Math.min(before.length, after.length)
  const suffixLimit = caret === undefined ? common : Math.max(0, Math.min(common, after.length - caret))
  let suffix = 0
  while (suffix < suffixLimit && before[before.length - 1 - suffix] === after[after.length - 1 - suffix])
    suffix++
  let prefix = 0
  while (prefix < common - suffix && before[prefix] === after[prefix]) prefix++
  while (prefix > 0 && isLowSurrogate(after.charCodeAt(prefix))) prefix--
  while (suffix > 0 && isLowSurrogate(after.charCodeAt(after.length - suffix))) suffix--
  return {
    index: prefix,
    remove: before.length - prefix - suffix,
    insert: after.slice(prefix, after.length - suffix),
  }
}

export function applySplice(text: string, splice: Splice): string {
  return text.slice(0, splice.index) + splice.insert + text.slice(splice.index + splice.remove)
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff
}
