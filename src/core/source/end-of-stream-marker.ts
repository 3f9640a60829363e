/** An IPC end-of-stream marker: a continuation word (0xFFFFFFFF), then a zero metadata length. */
export const END_OF_STREAM_MARKER: Readonly<Uint8Array> = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0);

/** Whether `bytes` hold an end-of-stream marker at `at`. */
export function isEndOfStreamMarker(bytes: Uint8Array, at: number): boolean {
  if (at + END_OF_STREAM_MARKER.byteLength > bytes.byteLength) return false;
  return END_OF_STREAM_MARKER.every((byte, i) => bytes[at + i] === byte);
}
