import { Bridge, BridgeAdapter, Repo } from "@tandem/repo"
import { describe, expect, it } from "vitest"

describe("smoke", () => {
  it("two repos converge", async () => {
    const bridge = new Bridge()
    const a = new Repo({ network: [new BridgeAdapter(bridge)] })
    const b = new Repo({ network: [new BridgeAdapter(bridge)] })
    const ha = a.get("doc")
    ha.change((doc) => doc.getText("t").insert(0, "hello"))
    const hb = b.get("doc")
    expect(await hb.whenReady()).toBe("ready")
    await bridge.whenQuiet()
    expect(hb.doc.getText("t").toString()).toBe("hello")
    await a.shutdown()
    await b.shutdown()
  })
})
