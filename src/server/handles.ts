import { decimalLength, latin1Bytes, writeDecimal } from "../util/bytes.ts";

/** Longest counter accepted in a handle: 15 digits stay exact in a double. */
const MAX_DIGITS = 15;

/**
 * Job handles `<prefix>:<counter>`. They are never kept as strings: a job
 * has its counter, handles are written into packets as bytes, and a handle
 * a peer sends is parsed back to its counter.
 */
export class Handles {
  /** The prefix, as `--job-handle-prefix` gave it. */
  readonly prefix: string;
  /** `<prefix>:` as bytes. */
  readonly head: Uint8Array;

  constructor(prefix: string) {
    this.prefix = prefix;
    this.head = latin1Bytes(`${prefix}:`);
  }

  /** The handle of counter `seq` as a (latin1) string. */
  format(seq: number): string {
    return `${this.prefix}:${seq}`;
  }

  /** Byte length of the handle of `seq`. */
  length(seq: number): number {
    return this.head.length + decimalLength(seq);
  }

  /** Writes the handle of `seq` at `buf[at]`; returns the offset after it. */
  write(buf: Uint8Array, at: number, seq: number): number {
    const head = this.head;
    for (let i = 0; i < head.length; i++) buf[at + i] = head[i] as number;
    const end = at + head.length + decimalLength(seq);
    writeDecimal(buf, end, seq);
    return end;
  }

  /**
   * The counter named by the handle `buf[start..end)`, or -1 when it is not
   * `<prefix>:<n>` written the way {@link write} writes it (no sign, no
   * leading zero).
   */
  parse(buf: Uint8Array, start: number, end: number): number {
    const head = this.head;
    const digits = end - start - head.length;
    if (digits < 1 || digits > MAX_DIGITS) return -1;
    for (let i = 0; i < head.length; i++) if (buf[start + i] !== head[i]) return -1;
    let at = start + head.length;
    if (buf[at] === 48 && digits > 1) return -1;
    let n = 0;
    for (; at < end; at++) {
      const d = (buf[at] as number) - 48;
      if (d < 0 || d > 9) return -1;
      n = n * 10 + d;
    }
    return n;
  }

  /** {@link parse} for a handle given as a (latin1) string. */
  parseText(handle: string): number {
    const head = this.head;
    const digits = handle.length - head.length;
    if (digits < 1 || digits > MAX_DIGITS) return -1;
    for (let i = 0; i < head.length; i++) if (handle.charCodeAt(i) !== head[i]) return -1;
    if (handle.charCodeAt(head.length) === 48 && digits > 1) return -1;
    let n = 0;
    for (let at = head.length; at < handle.length; at++) {
      const d = handle.charCodeAt(at) - 48;
      if (d < 0 || d > 9) return -1;
      n = n * 10 + d;
    }
    return n;
  }
}
