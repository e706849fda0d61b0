/**
 * Pieces the packed encodings of the collections share (hash_value.ts, set_value.ts,
 * sorted_set_value.ts, list_value.ts): the varint length prefix of a packed entry (its layout
 * is in util/packed_entries.ts, which the reply encoder reads too), and flat copies of strings
 * read out of a packed string.
 */

export { lengthPrefix, prefixSize, readLength } from "../util/packed_entries.ts";

/** Strings this long or longer are sliced by V8 as views of their parent. */
const SLICE_MIN = 13;

/**
 * `text` as a string that shares no characters with another: V8 makes a slice of 13 characters
 * or more a view of its parent, which would keep a whole packed string alive for as long as one
 * entry read from it. Joining two parts copies them into a new flat string at native speed.
 */
export function detached(text: string): string {
  if (text.length < SLICE_MIN) return text;
  return [text.slice(0, 1), text.slice(1)].join("");
}

/** `text.slice(start, end)` as a string of its own (see {@link detached}). */
export function copyRange(text: string, start: number, end: number): string {
  if (end - start < SLICE_MIN) return text.slice(start, end);
  return [text.slice(start, start + 1), text.slice(start + 1, end)].join("");
}
