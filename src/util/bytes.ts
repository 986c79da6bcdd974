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

/** Encodes a one-char-per-byte string back to bytes (chars above 0xff are truncated). */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

const utf8 = new TextEncoder();

/** Encodes text as UTF-8. */
export function utf8Bytes(text: string): Uint8Array {
  return utf8.encode(text);
}

/** Joins byte arrays into one new array. */
export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  let size = total ?? 0;
  if (total === undefined) for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
