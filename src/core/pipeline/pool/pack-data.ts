import { Data, type DataType, type Dictionary, type Field, Vector } from 'apache-arrow';

/** Arrow data as plain values that `postMessage` carries; its type is the receiver's schema's. */
export interface PackedData {
  offset: number;
  length: number;
  nullCount: number;
  /** apache-arrow's buffer order: value offsets, values, validity bitmap, type ids. */
  buffers: (ArrayBufferView | undefined)[];
  variadic: Uint8Array[];
  children: PackedData[];
  /** A dictionary column's dictionary: its key, and its chunks the first time this key is sent. */
  dictionary: { key: string; chunks: PackedData[] | null } | null;
}

/**
 * Packs decoded data for the loader thread. Batch buffers are listed in `transfer` (moved, not copied);
 * a dictionary is sent once per version under a key, and copied, since later batches still use it.
 */
export class DataPacker {
  readonly #keys = new WeakMap<Vector, string>();
  readonly #prefix = `${Math.random().toString(36).slice(2)}:`;
  #next = 0;

  /** Packs `data`, adding the buffers it moves to `transfer`. */
  pack(data: Data, transfer: Set<ArrayBuffer>): PackedData {
    const buffers = [data.valueOffsets, data.values, data.nullBitmap, data.typeIds] as (
      | ArrayBufferView
      | undefined
    )[];
    const variadic = (data.variadicBuffers ?? []) as Uint8Array[];
    for (const view of [...buffers, ...variadic]) if (view) moveWith(view, transfer);
    return {
      ...{ offset: data.offset, length: data.length, nullCount: data.nullCount },
      ...{ buffers, variadic, children: data.children.map((c) => this.pack(c, transfer)) },
      dictionary: data.dictionary ? this.#packDictionary(data.dictionary) : null,
    };
  }

  #packDictionary(vector: Vector): PackedData['dictionary'] {
    const known = this.#keys.get(vector);
    if (known) return { key: known, chunks: null };
    const key = `${this.#prefix}${this.#next++}`;
    this.#keys.set(vector, key);
    // Not transferred: the worker's decoder keeps this dictionary for the batches after it.
    return { key, chunks: vector.data.map((d) => this.pack(d, new Set())) };
  }
}

/**
 * Lists the buffer under `view` to be moved. Empty ones are left out: apache-arrow shares a few empty
 * arrays between all its data, and moving one would detach it for every later batch.
 */
export function moveWith(view: ArrayBufferView, transfer: Set<ArrayBuffer>): void {
  if (view.buffer.byteLength > 0) transfer.add(view.buffer as ArrayBuffer);
}

/** Rebuilds packed data of `type`; `dictionaries` keeps each dictionary by key, so it is one object. */
export function unpackData(type: DataType, packed: PackedData, dictionaries: Map<string, Vector>): Data {
  const children = packed.children.map((child, i) =>
    unpackData((type.children[i] as Field).type, child, dictionaries),
  );
  let dictionary: Vector | undefined;
  if (packed.dictionary) {
    const { key, chunks } = packed.dictionary;
    dictionary = dictionaries.get(key);
    if (!dictionary) {
      const valueType = (type as Dictionary).dictionary;
      dictionary = new Vector((chunks ?? []).map((c) => unpackData(valueType, c, dictionaries)));
      dictionaries.set(key, dictionary);
    }
  }
  const { offset, length, nullCount, buffers, variadic } = packed;
  return new Data(type, offset, length, nullCount, buffers as never, children, dictionary, variadic);
}
