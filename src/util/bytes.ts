/**
 * Byte helpers. Names, uniques and handles are kept as latin1 strings: one
 * char per byte, so any byte sequence maps to a string and back unchanged.
 */

const CHUNK = 8192;

/** Decodes bytes to a string with one char per byte. */
export function latin1(bytes: Uint8Array): string {
  if (bytes.length <= CHUNK) {
    return String.fromCharCode.apply(null, bytes as unknown as number[]);
  }
  let out = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    out += String.fromCharCode.apply(
      null,
      bytes.subarray(i, i + CHUNK) as unknown as number[],
    );
  }
  return out;
}

/** `codes[n]`: an array of `n` char codes, reused by every decode of `n` bytes. */
const codes: number[][] = [];

/** Decodes `buf[start..end)` to a string with one char per byte. */
export function latin1At(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 0) return "";
  if (n > 256) return latin1(view(buf, start, end));
  // Short names and ids: an array kept per length needs neither a view of the
  // buffer nor a new backing store (resizing one shared array would allocate).
  const out = codes[n] ??= new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) out[i] = buf[start + i] as number;
  return String.fromCharCode.apply(null, out);
}

/** Encodes a one-char-per-byte string back to bytes (chars above 0xff are truncated). */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** Writes a one-char-per-byte string at `buf[at]`; returns the offset after it. */
export function writeLatin1(buf: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) buf[at++] = text.charCodeAt(i);
  return at;
}

/** True when `buf[start..end)` holds the chars of a one-char-per-byte string. */
export function equalsLatin1(buf: Uint8Array, start: number, end: number, text: string): boolean {
  if (end - start !== text.length) return false;
  for (let i = 0; i < text.length; i++) if (buf[start + i] !== text.charCodeAt(i)) return false;
  return true;
}

/**
 * A view of `buf[start..end)`. Unlike `subarray`, it skips the species
 * lookup, which makes it several times cheaper on V8.
 */
export function view(buf: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset + start, end - start);
}

/** Number of decimal digits of a non-negative integer. */
export function decimalLength(n: number): number {
  let len = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    len++;
  }
  return len;
}

/** Writes a non-negative integer in decimal so that it ends at `buf[end - 1]`. */
export function writeDecimal(buf: Uint8Array, end: number, n: number): void {
  do {
    const q = Math.floor(n / 10);
    buf[--end] = 48 + n - q * 10;
    n = q;
  } while (n > 0);
}

const utf8 = new TextEncoder();

/** Encodes text as UTF-8. */
export function utf8Bytes(text: string): Uint8Array {
  return utf8.encode(text);
}

/** A payload as bytes: text is encoded as UTF-8, bytes are passed as they are. */
export function payloadBytes(payload: Uint8Array | string): Uint8Array {
  return typeof payload === "string" ? utf8.encode(payload) : payload;
}

/** Joins byte arrays into one new array. */
export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  let size = total ?? 0;
  if (total === undefined) { for (const p of parts) size += p.length; }
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
