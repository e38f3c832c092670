/**
 * Labels and annotations from a Kubernetes protobuf body (client-go sends built-in types as
 * protobuf). The envelope is "k8s\0" + runtime.Unknown{raw: 2}; in every built-in object the
 * ObjectMeta is field 1, and in ObjectMeta name is 1, labels 11 and annotations 12 (maps are
 * repeated {key: 1, value: 2} entries). Only those fields are read; the rest is skipped.
 */

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

/** What the object's metadata says, or undefined when the bytes are not a Kubernetes protobuf object. */
export function protobufMetadata(
  body: Uint8Array,
):
  | { name?: string; labels: Record<string, string>; annotations: Record<string, string> }
  | undefined {
  if (!MAGIC.every((byte, i) => body[i] === byte)) return undefined;
  try {
    const raw = fields(body.subarray(4)).find((f) => f.number === 2)?.bytes;
    const meta = raw && fields(raw).find((f) => f.number === 1)?.bytes;
    if (!meta) return { labels: {}, annotations: {} };
    const decoder = new TextDecoder();
    const result = {
      labels: {} as Record<string, string>,
      annotations: {} as Record<string, string>,
    } as {
      name?: string;
      labels: Record<string, string>;
      annotations: Record<string, string>;
    };
    for (const field of fields(meta)) {
      if (!field.bytes) continue;
      if (field.number === 1) result.name = decoder.decode(field.bytes);
      if (field.number === 11 || field.number === 12) {
        const entry = fields(field.bytes);
        const key = entry.find((f) => f.number === 1)?.bytes;
        const value = entry.find((f) => f.number === 2)?.bytes;
        if (key) {
          (field.number === 11 ? result.labels : result.annotations)[decoder.decode(key)] = decoder
            .decode(value ?? new Uint8Array());
        }
      }
    }
    return result;
  } catch {
    return undefined;
  }
}

/** The top-level fields of a protobuf message; length-delimited ones carry their bytes. */
function fields(message: Uint8Array): { number: number; bytes?: Uint8Array }[] {
  const result: { number: number; bytes?: Uint8Array }[] = [];
  let offset = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    while (true) {
      if (offset >= message.length) throw new Error("truncated varint");
      const byte = message[offset++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
      shift += 7;
    }
  };
  while (offset < message.length) {
    const tag = varint();
    const number = Math.floor(tag / 8);
    switch (tag & 7) {
      case 0:
        varint();
        result.push({ number });
        break;
      case 1:
        offset += 8;
        result.push({ number });
        break;
      case 2: {
        const length = varint();
        if (offset + length > message.length) throw new Error("truncated field");
        result.push({ number, bytes: message.subarray(offset, offset + length) });
        offset += length;
        break;
      }
      case 5:
        offset += 4;
        result.push({ number });
        break;
      default:
        throw new Error(`unsupported wire type ${tag & 7}`);
    }
  }
  return result;
}
