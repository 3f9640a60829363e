import type { Data, RecordBatch } from 'apache-arrow';
import { ColumnError, DecodeError } from '../errors.js';
import type { ColumnPlan } from './type-plan.js';

/** Where a batch came from, for error messages. */
export interface BatchOrigin {
  url: string;
  batch: number;
  byteOffset: number;
}

/**
 * Checks that each planned column of a decoded batch holds the values and validity bits its length
 * promises, so that the uploader never reads past a buffer.
 */
export function checkBatch(batch: RecordBatch, plans: readonly ColumnPlan[], origin: BatchOrigin): void {
  for (const plan of plans) {
    const data = batch.getChildAt(plan.fieldIndex)?.data[0] as Data | undefined;
    const where = { ...origin, column: plan.name, arrowType: plan.arrowType };
    const at = `column ${JSON.stringify(plan.name)} of batch ${origin.batch} (message at byte ${origin.byteOffset}) in ${origin.url}`;
    if (!data || String(data.type) !== plan.arrowType) {
      throw new ColumnError(
        'SCHEMA_MISMATCH',
        `${at}: expected Arrow type ${plan.arrowType}, got ${data ? String(data.type) : 'no column'}`,
        where,
      );
    }
    if (data.length !== batch.numRows) {
      throw new DecodeError('CORRUPT', `${at}: ${data.length} rows, but the batch has ${batch.numRows}`, {
        ...where,
        expected: batch.numRows,
        actual: data.length,
      });
    }
    // apache-arrow's values begin at the column's first row; its offset applies to the validity bitmap.
    const values = data.values as ArrayLike<number> | undefined;
    if (data.length > 0 && (!values || values.length < data.length)) {
      throw new DecodeError(
        'CORRUPT',
        `${at}: values buffer holds ${values?.length ?? 0} values, expected at least ${data.length}`,
        { ...where, expected: data.length, actual: values?.length ?? 0 },
      );
    }
    const needed = data.offset + data.length;
    const bitmap = data.nullBitmap as Uint8Array | undefined;
    if (data.nullCount > 0 && (!bitmap || bitmap.byteLength === 0)) {
      throw new DecodeError(
        'CORRUPT',
        `${at}: ${data.nullCount} nulls declared but no validity bitmap`,
        where,
      );
    }
    if (bitmap && bitmap.byteLength > 0 && bitmap.byteLength * 8 < needed) {
      throw new DecodeError(
        'CORRUPT',
        `${at}: validity bitmap holds ${bitmap.byteLength * 8} bits, expected at least ${needed}`,
        { ...where, expected: Math.ceil(needed / 8), actual: bitmap.byteLength },
      );
    }
  }
}
