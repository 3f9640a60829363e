declare module 'lz4js' {
  /** Decompresses one LZ4 frame into `dst`; returns the number of bytes written. */
  export function decompressFrame(src: Uint8Array, dst: Uint8Array): number;
}
