import { type Browser, chromium } from "playwright-core"

/** Debian's chromium binary (`/usr/bin/chromium` is a wrapper script Playwright cannot drive). */
export const chromiumPath = process.env.TANDEM_CHROMIUM ?? "/usr/lib/chromium/chromium"

const args = [
  "--no-sandbox", // root in CI has no user namespace for the sandbox
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
]

/** Launches headless chromium for a browser test; close it in `afterAll`. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, headless: true, args })
}
