import { latin1At } from "../util/bytes.ts";
import type { Handles } from "./handles.ts";
import { FunctionEntry } from "./job.ts";

/**
 * The server's functions by name. A function named in a packet is found
 * from the packet's bytes, without decoding the name: the last one used is
 * checked first (submits mostly repeat it), then a table keyed by a hash of
 * the bytes, verified byte by byte.
 */
export class Functions {
  /** Every function by (latin1) name, in creation order. */
  readonly byName = new Map<string, FunctionEntry>();
  readonly #handles: Handles;
  /** By a hash of the name's bytes, chained through `nextSameHash`. */
  readonly #byHash = new Map<number, FunctionEntry>();
  #last: FunctionEntry | undefined;

  constructor(handles: Handles) {
    this.#handles = handles;
  }

  /** The entry for a function, created on first use. */
  get(name: string): FunctionEntry {
    let entry = this.byName.get(name);
    if (entry === undefined) {
      entry = new FunctionEntry(name, this.#handles);
      this.byName.set(name, entry);
      const hash = hashLatin1(name);
      entry.nextSameHash = this.#byHash.get(hash);
      this.#byHash.set(hash, entry);
    }
    return entry;
  }

  /** The entry for the function named by `buf[start..end)`, created on first use. */
  getAt(buf: Uint8Array, start: number, end: number): FunctionEntry {
    return this.findAt(buf, start, end) ?? this.get(latin1At(buf, start, end));
  }

  /** The entry for the function named by `buf[start..end)`, if there is one. */
  findAt(buf: Uint8Array, start: number, end: number): FunctionEntry | undefined {
    const last = this.#last;
    if (last !== undefined && sameBytes(last.nameBytes, buf, start, end)) return last;
    let entry = this.#byHash.get(hashBytes(buf, start, end));
    while (entry !== undefined && !sameBytes(entry.nameBytes, buf, start, end)) {
      entry = entry.nextSameHash;
    }
    if (entry !== undefined) this.#last = entry;
    return entry;
  }

  /** Forgets a function. */
  delete(fn: FunctionEntry): void {
    if (this.byName.get(fn.name) !== fn) return;
    this.byName.delete(fn.name);
    const hash = hashLatin1(fn.name);
    let entry = this.#byHash.get(hash);
    if (entry === fn) {
      if (fn.nextSameHash === undefined) this.#byHash.delete(hash);
      else this.#byHash.set(hash, fn.nextSameHash);
    } else {
      while (entry !== undefined && entry.nextSameHash !== fn) entry = entry.nextSameHash;
      if (entry !== undefined) entry.nextSameHash = fn.nextSameHash;
    }
    fn.nextSameHash = undefined;
    if (this.#last === fn) this.#last = undefined;
  }
}

/** FNV-1a over `buf[start..end)`. */
function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
  return h >>> 0;
}

/** {@link hashBytes} of a latin1 string's bytes. */
function hashLatin1(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ (text.charCodeAt(i) & 0xff), 0x01000193);
  }
  return h >>> 0;
}

function sameBytes(a: Uint8Array, buf: Uint8Array, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[start + i]) return false;
  return true;
}
