/**
 * Case-insensitive lookup of command names straight from request bytes. Every request starts with
 * a name lookup, so this avoids building a JS string per command: it hashes the lower-cased
 * bytes and compares bytes only on a hash hit.
 */

function lower(b: number): number {
  return b >= 65 && b <= 90 ? b + 32 : b;
}

function hashBytes(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ lower(bytes[i]), 0x01000193);
  return h >>> 0;
}

function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ lower(text.charCodeAt(i)), 0x01000193);
  return h >>> 0;
}

function sameName(bytes: Uint8Array, name: string): boolean {
  if (bytes.length !== name.length) return false;
  for (let i = 0; i < bytes.length; i++) if (lower(bytes[i]) !== name.charCodeAt(i)) return false;
  return true;
}

interface Entry<T> {
  name: string;
  value: T;
  next: Entry<T> | null;
}

/** A map from lower-case ASCII names to values, queried with bytes in any case. */
export class NameIndex<T> {
  #buckets = new Map<number, Entry<T>>();

  /** Adds a value under a lower-case name. */
  set(name: string, value: T): void {
    const h = hashText(name);
    this.#buckets.set(h, { name, value, next: this.#buckets.get(h) ?? null });
  }

  /** The value whose name equals `bytes` ignoring ASCII case. */
  get(bytes: Uint8Array): T | undefined {
    if (bytes.length > 64) return undefined;
    for (let e = this.#buckets.get(hashBytes(bytes)) ?? null; e; e = e.next) {
      if (sameName(bytes, e.name)) return e.value;
    }
    return undefined;
  }

  /** The value under a name given as text (any case). */
  getText(text: string): T | undefined {
    const name = text.toLowerCase();
    for (let e = this.#buckets.get(hashText(name)) ?? null; e; e = e.next) {
      if (e.name === name) return e.value;
    }
    return undefined;
  }
}
