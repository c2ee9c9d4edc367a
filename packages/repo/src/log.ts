import { getLogger, type Logger } from "@logtape/logtape"

/** Tandem logs under the `tandem` category; nothing is printed unless the application configures a sink. */
export function logger(...category: string[]): Logger {
  return getLogger(["tandem", ...category])
}
