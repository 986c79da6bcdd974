/**
 * Medians over rounds, and the benchmarks' number formats.
 *
 * @module
 */

/** The median of the finite values of `xs` (NaN when there are none). */
export function median(xs: readonly number[]): number {
  const v = xs.filter(Number.isFinite).sort((x, y) => x - y);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** 1,234 from 100 up, 12.3 from 10, 1.23 below; "n/a" for NaN. */
export const formatFigure = (x: number): string =>
  !Number.isFinite(x)
    ? "n/a"
    : x >= 100
    ? Math.round(x).toLocaleString("en-US")
    : x.toFixed(x >= 10 ? 1 : 2);

/** As formatFigure, with one significant digit below 0.01. */
export const formatRatio = (x: number): string =>
  !Number.isFinite(x) ? "n/a" : x < 0.01 ? x.toPrecision(1) : formatFigure(x);

/** A whole number with thousands separators: 12,345; "n/a" for NaN. */
export const formatWhole = (x: number): string =>
  Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "n/a";
