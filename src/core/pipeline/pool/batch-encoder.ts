import type { Data } from 'apache-arrow';
import { checkBatch } from '../../columns/check-batch.js';
import { type ColumnSlice, columnSlice, type SourceRange } from '../../columns/column-data.js';
import { ByteTable } from '../../columns/encoders/byte-table.js';
import { createEncoder, encodesAlone } from '../../columns/encoders/create-encoder.js';
import { hasTextOffsets, type LocalDictionary, splitDictionary } from '../../columns/local-dictionary.js';
import type { ColumnPlan } from '../../columns/type-plan.js';
import type { DecodedBatch } from '../../ipc/decode.js';
import type { BatchShape, BufferRegion } from '../../ipc/metadata/record-batch.js';
import { type DataPacker, moveWith } from './pack-data.js';
import type { WireBatch, WireColumn } from './protocol.js';
import type { ScratchBuffers } from './scratch-buffers.js';

/**
 * A batch ready to post: what crosses, and the buffers that move with it. `keptBody`: the worker's own
 * body, which nothing that crosses lies in (its words all left in the source or encoded): it stays on
 * the worker, for its next read, rather than crossing twice for nothing.
 */
export interface EncodedBatch {
  batch: WireBatch;
  transfer: ArrayBuffer[];
  keptBody: ArrayBuffer | null;
}

/**
 * A batch's message body on the worker: sent to it, or read by it into a buffer of its own (`own`).
 * `leaveInSource`: the body lies in the source at `position`, and words that are its own bytes are left
 * there for the loader to read: those of `minBytes` or more, and any in `holes` (regions not read).
 */
export interface WorkerBody {
  bytes: Uint8Array;
  own: boolean;
  leaveInSource?: LeaveInSource | null;
}

/** Which of a body's words are left in the source (see `WorkerBody`). */
export interface LeaveInSource {
  position: number;
  minBytes: number;
  holes: readonly BufferRegion[];
  /** What the batch's header lists (its regions), to learn the next batch's holes from. */
  shape: BatchShape | null;
}

/**
 * Batches one dictionary of a decode worker serves before a new one takes its place. The loader's copy
 * grows by a chunk a batch, and each batch costs as many steps there as it has chunks: a new dictionary
 * now and then keeps that bounded, at the cost of looking its values up again.
 */
export const DICTIONARY_BATCHES = 64;

/** Bytes of values past which a worker's dictionary is replaced too (far below a `ByteTable`'s cap). */
export const DICTIONARY_BYTES = 256 << 20;

/** A worker's dictionary of one column, as a batch is coded into it. */
export interface OwnDictionary {
  key: string;
  table: ByteTable;
  /** The key of the dictionary this one takes the place of, for the loader to forget. */
  replaces: string | null;
}

/**
 * A decode worker's own dictionaries of a load's text columns, by column: kept across the load's
 * batches (a new one every `DICTIONARY_BATCHES`, or past `DICTIONARY_BYTES`), each under a key that
 * names it to the loader's thread.
 */
export class WorkerDictionaries {
  readonly #tables = new Map<
    number,
    { key: string; table: ByteTable; batches: number; generation: number }
  >();
  readonly #prefix = `${Math.random().toString(36).slice(2)}:`;

  constructor(readonly batchesEach = DICTIONARY_BATCHES) {}

  /** Column `column`'s dictionary for its next batch. */
  of(column: number): OwnDictionary {
    const last = this.#tables.get(column);
    let own = last;
    if (!own || own.batches >= this.batchesEach || own.table.byteLength >= DICTIONARY_BYTES) {
      const generation = last ? last.generation + 1 : 0;
      own = { key: `${this.#prefix}${column}.${generation}`, table: new ByteTable(), batches: 0, generation };
      this.#tables.set(column, own);
    }
    own.batches++;
    return { key: own.key, table: own.table, replaces: last && last !== own ? last.key : null };
  }
}

/** Where `words` lie in the source, when they are bytes of `body` that it leaves there. */
function inSource(words: Uint8Array, body: WorkerBody): SourceRange | null {
  const leave = body.leaveInSource;
  if (!leave || words.byteLength % 4 !== 0) return null;
  if (words.buffer !== body.bytes.buffer) return null; // decompressed, or made by the encoder
  const offset = words.byteOffset - body.bytes.byteOffset;
  if (offset < 0 || offset + words.byteLength > body.bytes.byteLength) return null;
  const inHole = leave.holes.some((h) => offset >= h.offset && offset < h.offset + h.length);
  if (!inHole && words.byteLength < leave.minBytes) return null;
  return { position: leave.position + offset, byteLength: words.byteLength };
}

/**
 * A column that the loader's thread encodes, as Arrow data: text bound for the table's dictionary as
 * codes into the worker's own dictionary, with the values this batch added to it.
 */
function arrowColumn(
  data: Data,
  plan: ColumnPlan,
  column: number,
  packer: DataPacker,
  transfer: Set<ArrayBuffer>,
  dictionaries: WorkerDictionaries,
): Pick<WireColumn, 'data' | 'dictionary'> {
  if (plan.encoding !== 'dictionary' || !hasTextOffsets(data)) return { data: packer.pack(data, transfer) };
  const own = dictionaries.of(column);
  const { codes, added } = splitDictionary(data, own.table) as LocalDictionary;
  const dictionary = { key: own.key, added: packer.pack(added, transfer), replaces: own.replaces };
  return { data: packer.pack(codes, transfer), dictionary };
}

/**
 * Encodes a decoded batch on a decode worker: columns that encode alone become their GPU words (the
 * Arrow bytes themselves where they already are, else one scratch buffer for the batch, handed back
 * once uploaded, as is a body the worker read itself); the others go back as Arrow data, for the
 * loader thread to encode in order (text bound for the table's dictionary as codes into the worker's
 * own, `dictionaries`). Checked first, as the loader would.
 */
export function encodeBatch(
  decoded: DecodedBatch,
  body: WorkerBody,
  plans: readonly ColumnPlan[],
  url: string,
  packer: DataPacker,
  scratch: ScratchBuffers,
  dictionaries: WorkerDictionaries,
): EncodedBatch {
  const { batch, index, byteOffset, endOffset } = decoded;
  checkBatch(batch, plans, { url, batch: index, byteOffset });
  const started = performance.now();
  const rows = batch.numRows;
  const slices = plans.map((plan) => columnSlice(batch, plan));
  const encoders = plans.map((plan, i) => {
    const type = (slices[i] as ColumnSlice).data.type;
    return encodesAlone(plan, type) ? createEncoder(plan, type) : null;
  });
  const raw = encoders.map((e, i) => e?.rawBytes((slices[i] as ColumnSlice).data, 0, rows) ?? null);
  const wordCount = encoders.reduce((n, e, i) => n + (e && !raw[i] ? e.wordsFor(rows) : 0), 0);
  const out = new Uint32Array(
    wordCount > 0 ? scratch.acquire(wordCount * 4) : new ArrayBuffer(0),
    0,
    wordCount,
  );
  // Not cleared: every encoder writes each word it owns (as it must into a staging buffer mapped again).
  const transfer = new Set<ArrayBuffer>([out.buffer]);
  let at = 0;
  const columns = slices.map((slice, i): WireColumn => {
    const encoder = encoders[i];
    const { bitmap, bitOffset, nullCount } = slice;
    if (bitmap) moveWith(bitmap, transfer);
    if (!encoder) {
      const arrow = arrowColumn(slice.data, plans[i] as ColumnPlan, i, packer, transfer, dictionaries);
      return { words: null, ...arrow, bitmap, bitOffset, nullCount };
    }
    let words = raw[i] ?? null;
    const sourceWords = words && inSource(words, body);
    if (sourceWords) return { words: null, data: null, sourceWords, bitmap, bitOffset, nullCount };
    if (words) moveWith(words, transfer);
    else {
      const n = encoder.wordsFor(rows);
      encoder.encode(slice.data, 0, rows, out.subarray(at, at + n));
      words = new Uint8Array(out.buffer, at * 4, n * 4);
      at += n;
    }
    return { words, data: null, bitmap, bitOffset, nullCount };
  });
  const encodeMs = performance.now() - started;
  // A body the loader sent goes back to its pool; one of the worker's own only if words lie in it.
  const keep = body.own && !transfer.has(body.bytes.buffer as ArrayBuffer);
  if (!keep) moveWith(body.bytes, transfer);
  const sent = keep ? { body: new Uint8Array(0), ownBody: false } : { body: body.bytes, ownBody: body.own };
  const wire = {
    ...{ index, numRows: rows, byteOffset, endOffset, columns, ...sent },
    ...{ scratch: wordCount > 0 ? out.buffer : null, decodeMs: 0, encodeMs },
  };
  return { batch: wire, transfer: [...transfer], keptBody: keep ? (body.bytes.buffer as ArrayBuffer) : null };
}
