import type { Repo } from "@tandem/repo"
import { createContext, createElement, type ReactNode, useContext } from "react"

/** The connection state a network adapter reports (`WebSocketClientAdapter` is one). */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed"

/** Anything with a connection state and a `state` event: `WebSocketClientAdapter` fits as it is. */
export interface ConnectionSource {
  readonly state: ConnectionState
  on(event: "state", listener: (state: ConnectionState) => void): () => void
}

interface TandemContextValue {
  repo: Repo
  connection: ConnectionSource | undefined
}

const TandemContext = createContext<TandemContextValue | null>(null)

export interface TandemProviderProps {
  /** The repo the hooks below use. Create it once, outside React, and shut it down yourself. */
  repo: Repo
  /** The network adapter whose state `useConnectionState` reports. */
  connection?: ConnectionSource
  children?: ReactNode
}

/** Makes a repo (and optionally its connection) available to the hooks below it. */
export function TandemProvider({ repo, connection, children }: TandemProviderProps): ReactNode {
  const value = useStableValue(repo, connection)
  return createElement(TandemContext.Provider, { value }, children)
}

const values = new WeakMap<Repo, Map<ConnectionSource | undefined, TandemContextValue>>()

// The same context value for the same repo and connection, so consumers do not re-render.
function useStableValue(repo: Repo, connection: ConnectionSource | undefined): TandemContextValue {
  let byConnection = values.get(repo)
  if (!byConnection) {
    byConnection = new Map()
    values.set(repo, byConnection)
  }
  let value = byConnection.get(connection)
  if (!value) {
    value = { repo, connection }
    byConnection.set(connection, value)
  }
  return value
}

function useTandem(): TandemContextValue {
  const value = useContext(TandemContext)
  if (!value) throw new Error("Tandem hooks need a <TandemProvider repo={…}> above them")
  return value
}

/** The repo of the nearest `TandemProvider`. */
export function useRepo(): Repo {
  return useTandem().repo
}

/** @internal */
export function useConnectionSource(): ConnectionSource | undefined {
  return useTandem().connection
}
