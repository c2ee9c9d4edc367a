/** What each tab tells the channel's room about itself. */
export type ChatPresence = { name: string }
