/**
 * Case-insensitive lookup of command names straight from request bytes. Every request starts with
 * a name lookup, so this avoids building a JS string per command: it hashes the lower-cased
 * bytes and compares bytes only on a hash hit.
 */

function lower(b: number): number {
  return b >= 65 && b <= 90 ? b + 32 : b;
}

function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ lower(bytes[i]), 0x01000193);
  return h >>> 0;
}

function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ lower(text.charCodeAt(i)), 0x01000193);
  return h >>> 0;
}

function sameName(bytes: Uint8Array, start: number, end: number, name: string): boolean {
  if (end - start !== name.length) return false;
  for (let i = start; i < end; i++) {
    if (lower(bytes[i]) !== name.charCodeAt(i - start)) return false;
  }
  return true;
}

interface Entry<T> {
  name: string;
  hash: number;
  value: T;
  next: Entry<T> | null;
}

/** A map from lower-case ASCII names to values, queried with bytes in any case. */
export class NameIndex<T> {
  /** Chains by `hash & mask`: an array indexed directly, cheaper per lookup than a Map. */
  #buckets: (Entry<T> | null)[] = new Array(16).fill(null);
  #mask = 15;
  #size = 0;

  /** Adds a value under a lower-case name. */
  set(name: string, value: T): void {
    if (++this.#size * 2 > this.#buckets.length) this.#grow();
    const hash = hashText(name);
    const i = hash & this.#mask;
    this.#buckets[i] = { name, hash, value, next: this.#buckets[i] };
  }

  /** The value whose name equals `bytes` ignoring ASCII case. */
  get(bytes: Uint8Array): T | undefined {
    return this.getRange(bytes, 0, bytes.length);
  }

  /** The value whose name equals `bytes[start, end)` ignoring ASCII case. */
  getRange(bytes: Uint8Array, start: number, end: number): T | undefined {
    if (end - start > 64) return undefined;
    const hash = hashBytes(bytes, start, end);
    for (let e = this.#buckets[hash & this.#mask]; e !== null; e = e.next) {
      if (e.hash === hash && sameName(bytes, start, end, e.name)) return e.value;
    }
    return undefined;
  }

  /** The value under a name given as text (any case). */
  getText(text: string): T | undefined {
    const name = text.toLowerCase();
    const hash = hashText(name);
    for (let e = this.#buckets[hash & this.#mask]; e !== null; e = e.next) {
      if (e.name === name) return e.value;
    }
    return undefined;
  }

  #grow(): void {
    const old = this.#buckets;
    this.#buckets = new Array(old.length * 2).fill(null);
    this.#mask = this.#buckets.length - 1;
    for (let head of old) {
      while (head !== null) {
        const next = head.next;
        const i = head.hash & this.#mask;
        head.next = this.#buckets[i];
        this.#buckets[i] = head;
        head = next;
      }
    }
  }
}
