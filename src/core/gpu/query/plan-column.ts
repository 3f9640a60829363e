import { DictionaryEncoder } from '../../columns/encoders/dictionary-encoder.js';
import type { UploadedColumn } from '../upload/table-uploader.js';
import type { PlanColumn } from './mask-plan.js';
import { queryable, queryColumn } from './query-column.js';

/** What planning a mask needs of an uploaded column of a table of `numRows` rows. */
export function planColumn(column: UploadedColumn, numRows: number): PlanColumn {
  const { name, encoding } = column.plan;
  const { encoder, nullCount } = column;
  return {
    name,
    encoding,
    ...(queryable(encoding) ? { space: queryColumn(column, 'filter').space } : {}),
    nulls: nullCount === 0 ? 'none' : nullCount >= numRows ? 'all' : 'some',
    ...(encoder instanceof DictionaryEncoder ? { dictionary: () => encoder.values() } : {}),
  };
}
