/**
 * Parsers for the text admin protocol's listings (`status`, `prioritystatus`,
 * `show jobs`, ...) as gearmand and `gearadmin` print them, and polling on
 * `status` over a raw admin connection.
 */
import { admin } from "./_raw_conn.ts";
import { waitFor } from "./_wait.ts";

/** One line of `status`. */
export interface FunctionStatus {
  readonly total: number;
  readonly running: number;
  readonly workers: number;
}

function listingLines(text: string): string[] {
  const lines = text.split("\n");
  const dot = lines.indexOf(".");
  return (dot >= 0 ? lines.slice(0, dot) : lines).filter((l) => l !== "");
}

/** Parses `status` / `gearadmin --status` output into function → counts. */
export function parseStatus(text: string): Map<string, FunctionStatus> {
  const out = new Map<string, FunctionStatus>();
  for (const line of listingLines(text)) {
    const [name, total, running, workers] = line.split("\t");
    if (name === undefined) continue;
    out.set(name, { total: Number(total), running: Number(running), workers: Number(workers) });
  }
  return out;
}

/** Queued counts of one function by priority (`prioritystatus`). */
export interface PriorityStatus {
  readonly high: number;
  readonly normal: number;
  readonly low: number;
  readonly workers: number;
}

/** Parses `prioritystatus` / `gearadmin --priority-status` output. */
export function parsePriorityStatus(text: string): Map<string, PriorityStatus> {
  const out = new Map<string, PriorityStatus>();
  for (const line of listingLines(text)) {
    const [name, high, normal, low, workers] = line.split("\t");
    if (name === undefined) continue;
    out.set(name, {
      high: Number(high),
      normal: Number(normal),
      low: Number(low),
      workers: Number(workers),
    });
  }
  return out;
}

/** The lines of a listing without its terminating `.` line. */
export function parseListing(text: string): string[] {
  return listingLines(text);
}

/** Reads the `status` line of one function over the admin protocol (undefined when not listed). */
export async function functionStatus(
  port: number,
  fn: string,
): Promise<FunctionStatus | undefined> {
  return parseStatus(await admin(port, "status")).get(fn);
}

/** Waits until `fn` has at least `n` registered workers. */
export async function waitForWorkers(
  port: number,
  fn: string,
  n = 1,
  timeoutMs = 5000,
): Promise<void> {
  await waitFor(async () => ((await functionStatus(port, fn))?.workers ?? 0) >= n, {
    timeoutMs,
    what: `${n} worker(s) for ${fn}`,
  });
}
