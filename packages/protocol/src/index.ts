export { type CloseCode, CloseCodes, closeCodeFor, errorCodeFor, isPermanentClose } from "./close-codes.js"
export {
  type Decoded,
  defaultFrameLimits,
  encodedSize,
  encodeMessage,
  encodeMessageParts,
  FrameDecoder,
  type FrameLimits,
  type FrameParts,
  SUPPORTED_VERSIONS,
} from "./frames.js"
export { isJson, MAX_JSON_DEPTH } from "./json.js"
export { fromWire, MAX_NAME_LENGTH, messageTable, toWire } from "./schema.js"
