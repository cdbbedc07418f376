// The field link: a framed, checksummed serial protocol between a controller and engram.
export { crc32 } from '../util/crc32.js';
export { cobsEncode, cobsDecode } from './cobs.js';
export { encodeFrame, FrameReader, MAX_FRAME_BYTES, MAX_BODY_BYTES, type Frame, type FrameFault } from './frame.js';
export {
  PROTOCOL_VERSION,
  MIN_PROTOCOL_VERSION,
  MIN_REPLY_FRAME,
  AUTH_FLAG,
  MessageType,
  ErrorCode,
  InputKind,
  PruneKind,
  ProtocolError,
  encodeRequest,
  decodeRequest,
  encodeAck,
  decodeAck,
  encodeError,
  decodeError,
  errorCodeName,
  FRAME_REQUESTS,
  type Request,
  type Reply,
  type HelloReply,
  type HelloLink,
  type ErrorReply,
  type WireInput,
  type WirePrunePolicy,
} from './protocol.js';
export type { LinkLearner, LinkInput, LinkPrediction, LinkCamera } from './learner.js';
export {
  LinkServer,
  REQUEST_NAMES,
  READ_ONLY_REQUESTS,
  CHANGING_REQUESTS,
  type LinkServerOptions,
  type ByteStream,
  type RequestName,
} from './server.js';
export { readKeyFile, requestTag, signRequest } from './auth.js';
export { LinkClient, LinkError, type LinkClientOptions, type ClientInput } from './client.js';
export { openSerial, closeSerial, serveSerial, parseSerialSettings, type SerialSettings } from './serial.js';
