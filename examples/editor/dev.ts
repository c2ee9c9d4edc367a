// `pnpm --filter @tandem/example-editor dev`: a relay keeping documents in ./data, and the app on
// Vite's dev server, pointed at it.
import { fileURLToPath } from "node:url"
import { createServer as createRelay } from "@tandem/server"
import { FsStorage } from "@tandem/storage-fs"
import { createServer as createVite } from "vite"

const root = fileURLToPath(new URL(".", import.meta.url))
const relayPort = Number(process.env.TANDEM_PORT ?? 4100)
const relay = await createRelay({
  port: relayPort,
  host: "127.0.0.1",
  storage: await FsStorage.open({ dir: fileURLToPath(new URL("./data", import.meta.url)) }),
})
const vite = await createVite({
  root,
  define: { "import.meta.env.VITE_TANDEM_URL": JSON.stringify(relay.url) },
  server: { port: Number(process.env.PORT ?? 5173) },
})
await vite.listen()
console.log(`relay on ${relay.url}, documents in ./data`)
vite.printUrls()

const stop = async () => {
  await vite.close()
  await relay.close()
  process.exit(0)
}
process.once("SIGINT", stop)
process.once("SIGTERM", stop)
