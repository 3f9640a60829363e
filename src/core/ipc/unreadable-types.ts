import { DataType, type Field } from 'apache-arrow';
import type { FieldTree } from './field-tree.js';
import { TypeTag } from './metadata/type.js';

/** Arrow types apache-arrow 21 cannot decode (its schema decoder throws on them), by type tag. */
const UNREADABLE: ReadonlyMap<number, string> = new Map([
  [TypeTag.RunEndEncoded, 'RunEndEncoded'],
  [TypeTag.ListView, 'ListView'],
  [TypeTag.LargeListView, 'LargeListView'],
]);

/** True when the field, or any field under it (dictionary values included), has such a type. */
export function isUnreadable(tree: FieldTree): boolean {
  return UNREADABLE.has(tree.tag) || tree.children.some(isUnreadable);
}

/**
 * True for a RunEndEncoded field that the library expands itself: apache-arrow reads it as the struct of
 * its two children (`run_ends`, `values`), which must both be readable. A dictionary-encoded one (its
 * values in dictionary batches) is not.
 */
export function isExpandable(tree: FieldTree): boolean {
  return (
    tree.tag === TypeTag.RunEndEncoded &&
    tree.dictionaryId === null &&
    tree.children.length === 2 &&
    !tree.children.some(isUnreadable)
  );
}

/** The names of the unreadable types in and under the field, each once. */
export function unreadableKinds(tree: FieldTree, into: Set<string> = new Set()): Set<string> {
  const kind = UNREADABLE.get(tree.tag);
  if (kind !== undefined) into.add(kind);
  for (const child of tree.children) unreadableKinds(child, into);
  return into;
}

/**
 * A copy of a Schema message's metadata that apache-arrow decodes: each unreadable type's tag becomes
 * `Struct_`, which keeps the same children, so that the decoded fields mirror the flatbuffer's.
 */
export function readableCopy(metadata: Uint8Array, trees: readonly FieldTree[]): Uint8Array {
  const copy = metadata.slice();
  const patch = (tree: FieldTree): void => {
    if (UNREADABLE.has(tree.tag) && tree.tagAt !== null) copy[tree.tagAt] = TypeTag.Struct_;
    tree.children.forEach(patch);
  };
  trees.forEach(patch);
  return copy;
}

/**
 * Gives the fields of `metadata` (a Schema message that apache-arrow encoded from a `readableCopy`'s
 * decode, so of the same shape as `original`) their unreadable type tags back.
 */
export function restoreTags(
  metadata: Uint8Array,
  encoded: readonly FieldTree[],
  original: readonly FieldTree[],
) {
  original.forEach((tree, i) => {
    const twin = encoded[i];
    if (twin === undefined || twin.children.length !== tree.children.length) {
      throw new Error('the re-encoded schema does not have the fields of the original');
    }
    if (UNREADABLE.has(tree.tag) && twin.tagAt !== null) metadata[twin.tagAt] = tree.tag;
    restoreTags(metadata, twin.children, tree.children);
  });
}

/**
 * The Arrow type of a field in apache-arrow's notation (`List<Int32>`), unreadable types included
 * (`RunEndEncoded<Int32, Float64>`, `ListView<Utf8>`); `field` is its decode from `readableCopy`.
 */
export function describeType(tree: FieldTree, field: Field): string {
  if (!isUnreadable(tree)) return String(field.type);
  const dictionary = DataType.isDictionary(field.type) ? field.type : null;
  const value = (dictionary?.dictionary ?? field.type) as DataType & { listSize?: number };
  const fields = (value.children ?? []) as Field[];
  const inner = tree.children.map((child, i) => describeType(child, fields[i] as Field));
  const named = `{${tree.children.map((child, i) => `${child.name}:${inner[i]}`).join(', ')}}`;
  const text = describeNested(tree.tag, inner, named, value);
  return dictionary ? `Dictionary<${dictionary.indices}, ${text}>` : text;
}

/** The notation of a type with children, from its children's (`inner`, and `named` with their names). */
function describeNested(
  tag: number,
  inner: string[],
  named: string,
  value: DataType & { listSize?: number },
) {
  const kind = UNREADABLE.get(tag);
  if (kind !== undefined) return `${kind}<${inner.join(', ')}>`;
  switch (tag) {
    case TypeTag.List:
      return `List<${inner[0]}>`;
    case TypeTag.LargeList:
      return `LargeList<${inner[0]}>`;
    case TypeTag.FixedSizeList:
      return `FixedSizeList[${value.listSize}]<${inner[0]}>`;
    case TypeTag.Map:
      // apache-arrow shows a map by its entries' fields.
      return `Map${(inner[0] ?? '').replace(/^Struct/, '')}`;
    case TypeTag.Union:
      return `Union<${inner.join(' | ')}>`;
    default:
      return `Struct<${named}>`;
  }
}
