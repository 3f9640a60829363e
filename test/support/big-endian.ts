import {
  type DataType,
  DateUnit,
  IntervalUnit,
  Message,
  MetadataVersion,
  type Schema,
  Type,
  UnionMode,
} from 'apache-arrow';
import { Endianness } from 'apache-arrow/fb/endianness';
import { Schema as SchemaTable } from 'apache-arrow/fb/schema';
import { FileBlock, Footer } from 'apache-arrow/ipc/metadata/file';
import type { RecordBatch as BatchHeader, DictionaryBatch } from 'apache-arrow/ipc/metadata/message';

// Big-endian twins of little-endian IPC written by apache-arrow or Arrow C++: the schema says Big, and
// every number in every batch body is byte-reversed. The buffers are found from apache-arrow's types,
// independently of the library's own schema walk, so that a wrong layout there cannot cancel out here.

/** How one body buffer's values are made: widths of the numbers in a value, bytes only, or binary views. */
type Unit = readonly number[] | 'bytes' | 'view';

interface RawMessage {
  metadata: Uint8Array;
  body: Uint8Array;
}

/** The big-endian twin of a little-endian stream or file (continuation-marker framing). */
export function toBigEndian(bytes: Uint8Array): Uint8Array {
  const file = bytes[0] === 0x41; // "ARROW1"
  const { messages, footer } = split(bytes, file);
  const decoded = messages.map((m) => Message.decode(m.metadata));
  const schemaAt = decoded.findIndex((m) => m.isSchema());
  const schema =
    schemaAt >= 0 ? (decoded[schemaAt]?.header() as Schema) : Footer.decode(footer as Uint8Array).schema;
  const out: Uint8Array[] = file ? [bytes.subarray(0, 8)] : [];
  let position = file ? 8 : 0;
  const records: FileBlock[] = [];
  const dictionaries: FileBlock[] = [];
  messages.forEach((raw, i) => {
    const message = decoded[i] as Message;
    const metadata = message.isSchema() ? bigEndianSchemaMessage(schema) : raw.metadata;
    if (message.isRecordBatch()) swapBody(raw.body, unitsOfFields(schema), message.header() as BatchHeader);
    if (message.isDictionaryBatch()) {
      const batch = message.header() as DictionaryBatch;
      swapBody(raw.body, unitsOf(schema.dictionaries.get(batch.id) as DataType), batch.data);
    }
    const prefix = framed(metadata);
    const block = new FileBlock(prefix.byteLength, raw.body.byteLength, position);
    if (message.isRecordBatch()) records.push(block);
    if (message.isDictionaryBatch()) dictionaries.push(block);
    out.push(prefix, raw.body);
    position += prefix.byteLength + raw.body.byteLength;
  });
  out.push(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0));
  if (file) {
    const encoded = asBigEndian(() =>
      Footer.encode(new Footer(schema, MetadataVersion.V5, records, dictionaries)),
    );
    const length = new Uint8Array(4);
    new DataView(length.buffer).setInt32(0, encoded.byteLength, true);
    out.push(encoded, length, bytes.subarray(0, 6));
  }
  return concat(out);
}

/** The messages of a stream or file, their bodies copied (they are swapped in place), and a file's footer. */
function split(bytes: Uint8Array, file: boolean): { messages: RawMessage[]; footer: Uint8Array | null } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const messages: RawMessage[] = [];
  let at = file ? 8 : 0;
  while (at + 8 <= bytes.byteLength && view.getUint32(at, true) === 0xffffffff) {
    const length = view.getInt32(at + 4, true);
    at += 8;
    if (length === 0) break;
    const metadata = bytes.subarray(at, at + length);
    const bodyLength = Message.decode(metadata).bodyLength;
    messages.push({ metadata, body: bytes.slice(at + length, at + length + bodyLength) });
    at += length + bodyLength;
  }
  if (!file) return { messages, footer: null };
  const footerLength = view.getInt32(bytes.byteLength - 10, true);
  return { messages, footer: bytes.subarray(bytes.byteLength - 10 - footerLength, bytes.byteLength - 10) };
}

/**
 * Runs `encode` with apache-arrow's schema encoder writing `endianness: Big` (it writes the platform's,
 * which as the default Little is left out of the flatbuffer altogether).
 */
function asBigEndian<T>(encode: () => T): T {
  const original = SchemaTable.addEndianness;
  SchemaTable.addEndianness = (builder, _endianness) => original.call(SchemaTable, builder, Endianness.Big);
  try {
    return encode();
  } finally {
    SchemaTable.addEndianness = original;
  }
}

function bigEndianSchemaMessage(schema: Schema): Uint8Array {
  return asBigEndian(() => Message.encode(Message.from(schema)));
}

/** The buffers of a record batch of `schema`, in body order; dictionary values come in their own batches. */
function unitsOfFields(schema: Schema): Unit[] {
  return schema.fields.flatMap((field) => unitsOf(field.type));
}

/** The buffers of one field of `type` and of its children, in body order. */
function unitsOf(type: DataType): Unit[] {
  const t = type as DataType & Record<string, unknown>;
  const children = () => (type.children ?? []).flatMap((child) => unitsOf(child.type));
  if (type.typeId === Type.Dictionary) return ['bytes', [(t.indices as { bitWidth: number }).bitWidth / 8]];
  switch (type.typeId) {
    case Type.Null:
      return [];
    case Type.Bool:
    case Type.FixedSizeBinary:
      return ['bytes', 'bytes'];
    case Type.Int:
    case Type.Time:
    case Type.Decimal:
      return ['bytes', [(t.bitWidth as number) / 8]];
    case Type.Float:
      return ['bytes', [[2, 4, 8][t.precision as number] as number]];
    case Type.Date:
      return ['bytes', [t.unit === DateUnit.DAY ? 4 : 8]];
    case Type.Timestamp:
    case Type.Duration:
      return ['bytes', [8]];
    case Type.Interval:
      return [
        'bytes',
        { [IntervalUnit.YEAR_MONTH]: [4], [IntervalUnit.DAY_TIME]: [4, 4] }[t.unit as number] ?? [4, 4, 8],
      ];
    case Type.Utf8:
    case Type.Binary:
      return ['bytes', [4], 'bytes'];
    case Type.LargeUtf8:
    case Type.LargeBinary:
      return ['bytes', [8], 'bytes'];
    case Type.Utf8View:
    case Type.BinaryView:
      return ['bytes', 'view'];
    case Type.List:
    case Type.Map:
      return ['bytes', [4], ...children()];
    case Type.LargeList:
      return ['bytes', [8], ...children()];
    case Type.FixedSizeList:
    case Type.Struct:
      return ['bytes', ...children()];
    case Type.Union:
      return t.mode === UnionMode.Dense ? ['bytes', [4], ...children()] : ['bytes', ...children()];
    default:
      throw new Error(`no big-endian layout for ${String(type)}`);
  }
}

/** Reverses every number of the body's buffers; a view column's data buffers (after its views) are bytes. */
function swapBody(body: Uint8Array, units: Unit[], header: BatchHeader): void {
  const counts = [...header.variadicBufferCounts];
  let next = 0;
  for (const unit of units) {
    const region = header.buffers[next++];
    if (region === undefined) throw new Error('fewer buffers than the schema needs');
    const bytes = body.subarray(region.offset, region.offset + region.length);
    if (unit === 'view') {
      viewsToBigEndian(bytes);
      next += counts.shift() ?? 0;
    } else if (unit !== 'bytes') {
      const width = unit.reduce((a, b) => a + b, 0);
      for (let at = 0; at + width <= bytes.byteLength; at += width) {
        let part = at;
        for (const size of unit) {
          bytes.subarray(part, part + size).reverse();
          part += size;
        }
      }
    }
  }
}

/** Binary views: buffer index and offset of values not inline, then the length (read little-endian first). */
function viewsToBigEndian(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 16 <= bytes.byteLength; at += 16) {
    if (view.getInt32(at, true) > 12) {
      bytes.subarray(at + 8, at + 12).reverse();
      bytes.subarray(at + 12, at + 16).reverse();
    }
    bytes.subarray(at, at + 4).reverse();
  }
}

function framed(metadata: Uint8Array): Uint8Array {
  const padded = Math.ceil((metadata.byteLength + 8) / 8) * 8;
  const out = new Uint8Array(padded);
  new DataView(out.buffer).setUint32(0, 0xffffffff, true);
  new DataView(out.buffer).setInt32(4, padded - 8, true);
  out.set(metadata, 8);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
