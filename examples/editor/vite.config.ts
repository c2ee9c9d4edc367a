import { createRequire } from "node:module"
import { defaultClientConditions, defineConfig } from "vite"

const require = createRequire(import.meta.url)

export default defineConfig({
  resolve: {
    // Workspace packages from their TypeScript sources: no build step before `dev`.
    conditions: ["source", ...defaultClientConditions],
    // loro-crdt's browser build imports its .wasm as a module (that needs a plugin); the base64
    // build carries it inline.
    alias: [{ find: /^loro-crdt$/, replacement: require.resolve("loro-crdt/base64") }],
  },
  build: { target: "es2022", chunkSizeWarningLimit: 8_000 },
})
