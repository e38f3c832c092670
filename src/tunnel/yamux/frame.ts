/**
 * yamux frames as hashicorp/yamux defines them (spec.md): a 12-byte header — version 0, type,
 * flags, stream id, length — followed, for Data frames, by `length` bytes of payload. Pure.
 */

/** Frame types. */
export const FrameType = { Data: 0, WindowUpdate: 1, Ping: 2, GoAway: 3 } as const;
export type FrameType = typeof FrameType[keyof typeof FrameType];

/** Flags (a bit set). */
export const Flag = { SYN: 1, ACK: 2, FIN: 4, RST: 8 } as const;

/** GoAway codes. */
export const GoAwayCode = { Normal: 0, ProtocolError: 1, InternalError: 2 } as const;

/** Size of a header. */
export const HEADER_SIZE = 12;
/** The window every stream starts with (256 KiB). */
export const INITIAL_WINDOW = 256 * 1024;

/** A decoded header. */
export interface FrameHeader {
  type: FrameType;
  flags: number;
  streamId: number;
  /** Payload length (Data), window delta (WindowUpdate), opaque value (Ping) or code (GoAway). */
  length: number;
}

/** Encodes a header, followed by the payload when there is one. */
export function encodeFrame(header: FrameHeader, payload?: Uint8Array): Uint8Array {
  const frame = new Uint8Array(HEADER_SIZE + (payload?.length ?? 0));
  writeHeader(frame, payload ? { ...header, length: payload.length } : header);
  if (payload) frame.set(payload, HEADER_SIZE);
  return frame;
}

/** Writes a header into the first HEADER_SIZE bytes of `frame` (the payload follows it). */
export function writeHeader(frame: Uint8Array, header: FrameHeader): void {
  const view = new DataView(frame.buffer, frame.byteOffset, HEADER_SIZE);
  view.setUint8(0, 0);
  view.setUint8(1, header.type);
  view.setUint16(2, header.flags);
  view.setUint32(4, header.streamId);
  view.setUint32(8, header.length);
}

/** Decodes a header; throws on a version or type this implementation does not know. */
export function decodeHeader(bytes: Uint8Array): FrameHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  const version = view.getUint8(0);
  if (version !== 0) throw new Error(`yamux: unsupported protocol version ${version}`);
  const type = view.getUint8(1);
  if (type > FrameType.GoAway) throw new Error(`yamux: unknown frame type ${type}`);
  return {
    type: type as FrameType,
    flags: view.getUint16(2),
    streamId: view.getUint32(4),
    length: view.getUint32(8),
  };
}
