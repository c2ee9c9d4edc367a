import { Bridge, BridgeAdapter, MemoryStorage } from "@tandem/repo"
import { networkConformance, storageConformance } from "@tandem/repo/testing"

storageConformance("memory", () => new MemoryStorage())

networkConformance("bridge", async () => {
  const bridge = new Bridge()
  return { a: new BridgeAdapter(bridge), b: new BridgeAdapter(bridge) }
})
