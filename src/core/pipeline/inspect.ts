import type { Field, Schema } from 'apache-arrow';
import type { SchemaColumn, TableSchema } from '../../types.js';
import { type ColumnPlan, planColumns } from '../columns/type-plan.js';
import { loadAborted } from '../errors.js';
import { type BatchStream, openBatchStream } from '../ipc/decode.js';
import { DEFAULT_FRAMER_LIMITS, IpcFramer } from '../ipc/framer.js';
import { abortable } from './async-utils.js';

import type { PipelineInput } from './load.js';

/**
 * Everything one inspection needs: a source and the options a load of it would take (only the first
 * message is read; `unsupported` defaults to `'skip'` here, so that every column is listed).
 */
export type InspectInput = Pick<
  PipelineInput,
  | 'source'
  | 'readTail'
  | 'closeSource'
  | 'url'
  | 'bytesTotal'
  | 'columns'
  | 'encodings'
  | 'unsupported'
  | 'signal'
  | 'limits'
>;

/**
 * Reads the schema of an IPC source and plans its columns as a load would, without reading any batch:
 * a stream's first message, a file's first message or, when that is no schema (apache-arrow JS files),
 * its footer through `readTail`. The source is closed as soon as the schema is read, or on failure.
 */
export async function inspectSchema(input: InspectInput): Promise<TableSchema> {
  const { url, signal } = input;
  if (signal?.aborted) throw loadAborted(url);
  const framer = new IpcFramer(input.source, url, input.limits ?? DEFAULT_FRAMER_LIMITS, input.readTail);
  let stream: BatchStream;
  try {
    stream = await abortable(openBatchStream(framer.schemaOnly(), url), signal, () => loadAborted(url));
  } finally {
    // The rest of the body is never read: the request is closed, not drained.
    input.closeSource?.();
    void framer.cancel().catch(() => {});
  }
  const { plans, skipped } = planColumns(
    stream.schema,
    {
      columns: input.columns,
      encodings: input.encodings,
      unsupported: input.unsupported ?? 'skip',
    },
    url,
    stream.unreadable,
    stream.runEndEncoded,
  );
  const { schema } = stream;
  return {
    url,
    format: framer.format ?? 'stream',
    columns: plans.map((plan) => schemaColumn(plan, schema)),
    skipped,
    metadata: Object.fromEntries(schema.metadata),
    bytesTotal: input.bytesTotal,
  };
}

function schemaColumn(plan: ColumnPlan, schema: Schema): SchemaColumn {
  const column: SchemaColumn = {
    name: plan.name,
    arrowType: plan.arrowType,
    nullable: nullableAlong(schema, plan),
    encoding: plan.encoding,
    components: plan.components,
    gpuType: plan.wordType,
  };
  if (plan.scale !== undefined) column.scale = plan.scale;
  return column;
}

/**
 * Whether the column's field, or a struct above it, is nullable: a null struct row nulls its children.
 * A run-end encoded column's rows are null where its values are.
 */
function nullableAlong(schema: Schema, plan: ColumnPlan): boolean {
  let fields: readonly Field[] = schema.fields;
  let nullable = false;
  for (const index of plan.path) {
    const field = fields[index] as Field;
    nullable ||= field.nullable;
    fields = (field.type.children ?? []) as Field[];
  }
  return nullable || (plan.runEndEncoded === true && (fields[1]?.nullable ?? false));
}
