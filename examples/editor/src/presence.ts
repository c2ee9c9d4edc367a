import type { SharedSelection } from "./selection-cursors.js"

/** What each tab tells the others about itself. */
export type EditorPresence = {
  name: string
  colour: string
  selection: SharedSelection | null
}
