import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { openBatchStream } from './decode.js';
import { IpcFramer } from './framer.js';

/** A one-row IPC stream of Float32, Float64, Int32 and Uint16 columns (as apache-arrow writes it). */
const TINY_STREAM =
  '/////xABAAAQAAAAAAAKABAADgAHAAgACgAAAAAAAAEQAAAAAAAEAAgACAAAAAQACAAAAAQAAAAEAAAArAAAAHAAAAA4AAAABAAAAHT///8QAAAAFAAAAAAAAAIYAAAAAwAAAHUxNgAAAAAAAAAGAAgABAAGAAAAEAAAAKT///8QAAAAFAAAAAAAAAIYAAAAAwAAAGkzMgAAAAAACAAMAAgABwAIAAAAAAAAASAAAADY////EAAAABQAAAAAAAADEAAAAAMAAABmNjQAAAAAAMb///8AAAIAEAAUAAQAAAAPABAAAAAIABAAAAAQAAAAFAAAAAAAAAMYAAAAAwAAAGYzMgAAAAAAAAAGAAgABgAGAAAAAAABAP////8YAQAAFAAAAAAAAAAMABYAFAAPABAABAAMAAAAIAAAAAAAAAAAAAADEAAAAAQACgAYAAwACAAEAAoAAAAUAAAAmAAAAAEAAAAAAAAAAAAAAAgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAIAAAAAAAAAAgAAAAAAAAAAAAAAAAAAAAIAAAAAAAAAAgAAAAAAAAAEAAAAAAAAAAAAAAAAAAAABAAAAAAAAAACAAAAAAAAAAYAAAAAAAAAAAAAAAAAAAAGAAAAAAAAAAIAAAAAAAAAAAAAAAEAAAAAQAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAABAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAwD8AAAAAAAAAAAAABEADAAAAAAAAAAQAAAAAAAAA/////wAAAAA=';

/** The warm-up stream as a `data:` URL, which `fetch` reads through the same stream code as a response. */
export function warmUpDataUrl(): string {
  return `data:application/vnd.apache.arrow.stream;base64,${TINY_STREAM}`;
}

/** The warm-up stream's bytes (one row of Float32, Float64, Int32 and Uint16). */
export function warmUpBytes(): Uint8Array {
  return Uint8Array.from(atob(TINY_STREAM), (c) => c.charCodeAt(0));
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/**
 * Frames and decodes a one-row stream, so that a new worker compiles the framer's and apache-arrow's
 * code before its first load rather than during it (a cold first load otherwise spends tens of
 * milliseconds there). Returns the rows it decoded (1).
 */
export async function warmUpDecoder(): Promise<number> {
  const bytes = warmUpBytes();
  const stream = await openBatchStream(new IpcFramer(once(bytes), 'warm-up'), 'warm-up');
  let rows = 0;
  for await (const decoded of stream.batches) rows += decoded.batch.numRows;
  return rows;
}

/** Rows of the warm-up table of `warmUpTableBytes`: about 2.25 MiB of record batch body. */
const WARM_UP_TABLE_ROWS = 1 << 17;

/**
 * A stream of one record batch of about 2.25 MiB (Float32, Float64, Int32 and Uint16 columns of zeros),
 * as large as a small file dashboards load: a new loader loads it once, from memory, before its first
 * load (see `LoaderService`).
 */
export function warmUpTableBytes(rows = WARM_UP_TABLE_ROWS): Uint8Array {
  const zeros = {
    f32: new Float32Array(rows),
    f64: new Float64Array(rows),
    i32: new Int32Array(rows),
    u16: new Uint16Array(rows),
  };
  return tableToIPC(tableFromArrays(zeros), 'stream');
}
