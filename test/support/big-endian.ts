import {
  CompressionType,
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
import {
  RecordBatch as BatchHeader,
  BodyCompression,
  BufferRegion,
  DictionaryBatch,
} from 'apache-arrow/ipc/metadata/message';
import { lz4Frame, zstdFrame } from './compressed-ipc.js';
import { assemble, type Block, concat, type RawMessage, splitMessages } from './ipc-bytes.js';

// Big-endian twins of little-endian IPC written by apache-arrow or Arrow C++: the schema says Big, and
// every number in every batch body is byte-reversed. The buffers are found from apache-arrow's types,
// independently of the library's own schema walk, so that a wrong layout there cannot cancel out here.

/** How one body buffer's values are made: widths of the numbers in a value, bytes only, or binary views. */
type Unit = readonly number[] | 'bytes' | 'view';

/**
 * The big-endian twin of a little-endian stream or file (continuation-marker framing, uncompressed);
 * with `compress`, each batch's buffers are then compressed with the test's small encoders.
 */
export function toBigEndian(bytes: Uint8Array, compress?: CompressionType): Uint8Array {
  const { messages, footer } = splitMessages(bytes);
  const decoded = messages.map((m) => Message.decode(m.metadata));
  const schemaMessage = decoded.find((m) => m.isSchema());
  const schema =
    (schemaMessage?.header() as Schema | undefined) ?? Footer.decode(footer as Uint8Array).schema;
  const out = messages.map((raw, i) => {
    const message = decoded[i] as Message;
    if (message.isSchema())
      return { ...raw, metadata: bigEndianSchemaMessage(schema), kind: 'schema' as const };
    if (message.isRecordBatch()) {
      swapBody(raw.body, unitsOfFields(schema), message.header() as BatchHeader);
      return { ...raw, kind: 'record' as const };
    }
    const batch = message.header() as DictionaryBatch;
    swapBody(raw.body, unitsOf(schema.dictionaries.get(batch.id) as DataType), batch.data);
    return { ...raw, kind: 'dictionary' as const };
  });
  const encodeFooter = (records: Block[], dictionaries: Block[]) =>
    asBigEndian(() =>
      Footer.encode(new Footer(schema, MetadataVersion.V5, records.map(block), dictionaries.map(block))),
    );
  const compressed =
    compress === undefined ? out : out.map((m) => (m.kind === 'schema' ? m : compressedMessage(m, compress)));
  return assemble(compressed, footer === null ? null : encodeFooter);
}

/** A batch message with each buffer compressed (an 8-byte little-endian length, then the frame). */
function compressedMessage<T extends RawMessage>(raw: T, codec: CompressionType): T {
  const message = Message.decode(raw.metadata);
  const header = message.header() as BatchHeader | DictionaryBatch;
  const data = header instanceof DictionaryBatch ? header.data : header;
  const encode = codec === CompressionType.ZSTD ? zstdFrame : lz4Frame;
  const parts = data.buffers.map(({ offset, length }) => {
    if (length === 0) return new Uint8Array(0);
    const frame = encode(raw.body.subarray(offset, offset + length));
    const part = new Uint8Array(8 + frame.byteLength);
    new DataView(part.buffer).setBigInt64(0, BigInt(length), true);
    part.set(frame, 8);
    return part;
  });
  const regions: BufferRegion[] = [];
  const padded: Uint8Array[] = [];
  let at = 0;
  for (const part of parts) {
    regions.push(new BufferRegion(at, part.byteLength));
    const size = Math.ceil(part.byteLength / 8) * 8;
    padded.push(part, new Uint8Array(size - part.byteLength));
    at += size;
  }
  const body = concat(padded);
  const batch = new BatchHeader(
    data.length,
    data.nodes,
    regions,
    new BodyCompression(codec),
    data.variadicBufferCounts,
  );
  const rewritten =
    header instanceof DictionaryBatch ? new DictionaryBatch(batch, header.id, header.isDelta) : batch;
  return { ...raw, body, metadata: Message.encode(Message.from(rewritten, body.byteLength)) };
}

function block({ metaDataLength, bodyLength, offset }: Block): FileBlock {
  return new FileBlock(metaDataLength, bodyLength, offset);
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
