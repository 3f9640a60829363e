import type { FieldsLayout } from './metadata/field.js';
import type { BatchShape } from './metadata/record-batch.js';
import type { SchemaLayout } from './metadata/schema.js';

/**
 * Why a batch does not fit its schema (or dictionary), or `null` when it fits. A batch must list the
 * field nodes and buffers its schema (or dictionary) needs, and each top-level field of a record batch
 * must have the batch's rows: apache-arrow would read past the lists, or pad.
 */
export function batchShapeFault(batch: BatchShape, rows: number, layout: SchemaLayout | null): string | null {
  const what = batch.dictionaryId === null ? 'record batch' : `dictionary batch (id ${batch.dictionaryId})`;
  if (layout === null) return `a ${what} comes before the schema`;
  const needs = batchLayout(batch, layout);
  if (needs === undefined) return `the schema has no dictionary for this ${what}`;
  if (batch.nodes < needs.nodes || batch.buffers < needs.buffers) {
    return (
      `the ${what} lists ${batch.nodes} field nodes and ${batch.buffers} buffers, its schema needs ` +
      `${needs.nodes} and ${needs.buffers}`
    );
  }
  if (batch.dictionaryId !== null) return null;
  return rowCountFault(batch, rows, layout);
}

/** Why a top-level field of a record batch does not have the batch's rows, or `null`. */
function rowCountFault(batch: BatchShape, rows: number, layout: SchemaLayout): string | null {
  for (const [field, node] of layout.topLevelNodes.entries()) {
    const length = batch.nodeLengths[node];
    if (length !== rows) {
      return `field ${field} of the record batch has ${length} rows, the batch declares ${rows}`;
    }
  }
  return null;
}

/** What a batch's nodes follow: its schema's fields, or its dictionary's values; `undefined` if neither. */
export function batchLayout(batch: BatchShape, layout: SchemaLayout | null): FieldsLayout | undefined {
  if (layout === null) return undefined;
  return batch.dictionaryId === null ? layout : layout.dictionaries.get(batch.dictionaryId);
}
