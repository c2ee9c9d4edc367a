import { type AddressInfo, createServer, type Server, Socket } from "node:net"

/**
 * A TCP proxy in front of a relay, to break a client's connection on purpose: `cut` drops it (and
 * refuses new ones until `restore`), `freeze` keeps it open but lets nothing through (half-open).
 */
export class TcpProxy {
  readonly #pairs = new Set<[Socket, Socket]>()
  #refusing = false
  #frozen = false

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const proxy = new TcpProxy(server, (server.address() as AddressInfo).port)
    server.on("connection", (client) => proxy.#accept(client, targetPort))
    return proxy
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`
  }

  cut(): void {
    this.#refusing = true
    for (const [client, upstream] of this.#pairs) {
      client.destroy()
      upstream.destroy()
    }
    this.#pairs.clear()
  }

  restore(): void {
    this.#refusing = false
    this.#frozen = false
  }

  freeze(): void {
    this.#frozen = true
  }

  async close(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  #accept(client: Socket, targetPort: number): void {
    if (this.#refusing) {
      client.destroy()
      return
    }
    const upstream = new Socket()
    upstream.connect(targetPort, "127.0.0.1")
    const pair: [Socket, Socket] = [client, upstream]
    this.#pairs.add(pair)
    const forward = (from: Socket, to: Socket) =>
      from.on("data", (chunk) => {
        if (!this.#frozen) to.write(chunk)
      })
    forward(client, upstream)
    forward(upstream, client)
    const drop = () => {
      this.#pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on("close", drop).on("error", drop)
    upstream.on("close", drop).on("error", drop)
  }
}
