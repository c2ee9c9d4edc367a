/** A document to put in a server's store before clients come. */
export interface DocRequest {
  /** The name clients know it by (a room's document). */
  name: string
  /** Characters of text content, appended in paragraphs (0: an empty text). */
  chars: number
  /** Also load it into the server's memory now, as a document in use would be. */
  hot: boolean
}

export interface ServerUnderTest {
  port: number
  /** Stores the documents (and loads the hot ones); returns the id clients open for each name. */
  prepare(docs: readonly DocRequest[]): Promise<Record<string, string>>
  /** Instances this one sees in its service, itself included (servers started with `redis`). */
  instances?(): number
}

/** How the server-main process was asked to run its server (`--redis=URL --instance=ID`). */
export interface ServerOptions {
  /** Join the other instances on this Redis as one service (Tandem only). */
  redis?: string
  instanceId?: string
}

export type StartServer = (options: ServerOptions) => Promise<ServerUnderTest>
