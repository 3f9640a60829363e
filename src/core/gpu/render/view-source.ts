import type { BufferTracker } from '../buffer-tracker.js';
import type { UploadedColumn } from '../upload/table-uploader.js';

/** What a view needs of the table it draws. */
export interface ViewSource {
  device: GPUDevice;
  tracker: BufferTracker;
  numRows: number;
  /** The column named `name`, or `NO_SUCH_COLUMN`. */
  column(name: string): UploadedColumn;
  /** The columns `names` select, as `table.wgsl(names)` picks them. */
  pick(names: readonly string[]): UploadedColumn[];
  /** The smallest and largest value of a column (`null` when it has none), computed on the GPU. */
  extent(column: UploadedColumn): Promise<[number, number] | null>;
  /** Throws `DEVICE_LOST` once the device is lost: a frame on a lost device draws nothing, silently. */
  checkDevice(): void;
}
