/** Size of one slab. */
export const SLAB_SIZE = 64 * 1024;

/**
 * Output memory handed out as slices of shared blocks (Node's Buffer pool
 * idea): `pos` only moves forward, so a slice handed to a socket is never
 * written again, and a block lives as long as some slice of it does. One
 * block holds many small packets, so encoding one costs no allocation, and
 * since a block is larger than V8's on-heap typed array limit, passing a
 * slice to native code never copies it out of the JS heap first.
 */
export class Slab {
  buf: Uint8Array = new Uint8Array(SLAB_SIZE);
  pos = 0;

  /** Makes `n` bytes available at `buf[pos]` (meant for small `n`; any size works). */
  fit(n: number): void {
    if (this.pos + n > this.buf.length) {
      this.buf = new Uint8Array(n > SLAB_SIZE ? n : SLAB_SIZE);
      this.pos = 0;
    }
  }

  /** `n` new bytes as an array of their own: a slice for small sizes, else a new array. */
  take(n: number): Uint8Array {
    if (n > SLAB_SIZE / 8) return new Uint8Array(n);
    this.fit(n);
    const at = this.pos;
    this.pos = at + n;
    return new Uint8Array(this.buf.buffer, at, n);
  }
}
