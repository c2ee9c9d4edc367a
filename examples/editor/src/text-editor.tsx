import type { DocHandle } from "@tandem/repo"
import type { Cursor, LoroDoc } from "loro-crdt"
import { type ChangeEvent, type ReactNode, useCallback, useLayoutEffect, useRef } from "react"
import { spliceBetween } from "./text-splice.js"

export const TEXT = "body"

interface Props {
  handle: DocHandle
  doc: LoroDoc
  /** The document's text as of this render. */
  text: string
  /** Called with the local selection whenever it changes (for presence). */
  onSelection: (anchor: number, head: number) => void
  children?: ReactNode
}

/**
 * A textarea on a `LoroText`. Typing becomes one splice per input event; remote changes replace
 * the value, and the local selection follows the text it was on (Loro cursors), not its offsets.
 */
export function TextEditor({ handle, doc, text, onSelection, children }: Props) {
  const area = useRef<HTMLTextAreaElement>(null)
  const selection = useRef<{ anchor: Cursor; head: Cursor } | null>(null)

  const reportSelection = useCallback(() => {
    const element = area.current
    if (!element) return
    const backward = element.selectionDirection === "backward"
    const anchor = backward ? element.selectionEnd : element.selectionStart
    const head = backward ? element.selectionStart : element.selectionEnd
    const loroText = doc.getText(TEXT)
    const a = loroText.getCursor(anchor)
    const h = loroText.getCursor(head)
    selection.current = a && h ? { anchor: a, head: h } : null
    onSelection(anchor, head)
  }, [doc, onSelection])

  const onChange = (event: ChangeEvent<HTMLTextAreaElement>) => {
    const element = event.currentTarget
    const splice = spliceBetween(doc.getText(TEXT).toString(), element.value, element.selectionEnd)
    if (!splice) return
    handle.change(
      (d) => {
        const loroText = d.getText(TEXT)
        if (splice.remove > 0) loroText.delete(splice.index, splice.remove)
        if (splice.insert) loroText.insert(splice.index, splice.insert)
      },
      { origin: "typing" },
    )
    reportSelection()
  }

  // After a remote change React set a new value, which moves the caret to the end: put the
  // selection back where its cursors are now.
  // biome-ignore lint/correctness/useExhaustiveDependencies: it must run after each new text React rendered
  useLayoutEffect(() => {
    const element = area.current
    if (!element) return
    element.style.height = "auto"
    element.style.height = `${element.scrollHeight}px`
    const saved = selection.current
    if (!saved || document.activeElement !== element) return
    const anchor = doc.getCursorPos(saved.anchor)?.offset
    const head = doc.getCursorPos(saved.head)?.offset
    if (anchor === undefined || head === undefined) return
    const start = Math.min(anchor, head)
    const end = Math.max(anchor, head)
    if (element.selectionStart !== start || element.selectionEnd !== end) {
      element.setSelectionRange(start, end, head < anchor ? "backward" : "forward")
    }
  }, [doc, text])

  useLayoutEffect(() => {
    const onSelectionChange = () => {
      if (document.activeElement === area.current) reportSelection()
    }
    document.addEventListener("selectionchange", onSelectionChange)
    return () => document.removeEventListener("selectionchange", onSelectionChange)
  }, [reportSelection])

  return (
    <div className="editor">
      <textarea
        ref={area}
        className="text-layout"
        value={text}
        onChange={onChange}
        onSelect={reportSelection}
        placeholder="Start typing; everyone here sees it as you type."
        spellCheck={false}
        aria-label="Document"
      />
      {children}
    </div>
  )
}
