import type { FunctionStatus, JobInfo, PriorityStatus, WorkerInfo } from "./admin_types.ts";

/** A count in an admin answer; 0 when it is missing or not a number. */
export function parseCount(text: string | undefined): number {
  return Number(text ?? 0) || 0;
}

/**
 * A listing line as a name and `count` columns after it. The columns are
 * taken from the right, so a tab in the name stays in the name.
 */
function nameAndColumns(line: string, count: number): [string, string[]] {
  const fields = line.split("\t");
  const columns = fields.splice(Math.max(1, fields.length - count));
  return [fields.join("\t"), columns];
}

/** One line of `status`: `NAME\tTOTAL\tRUNNING\tWORKERS`. */
export function parseStatusLine(line: string): FunctionStatus {
  const [name, [total, running, workers]] = nameAndColumns(line, 3);
  return {
    name,
    total: parseCount(total),
    running: parseCount(running),
    workers: parseCount(workers),
  };
}

/** One line of `prioritystatus`: `NAME\tHIGH\tNORMAL\tLOW\tWORKERS`. */
export function parsePriorityStatusLine(line: string): PriorityStatus {
  const [name, [high, normal, low, workers]] = nameAndColumns(line, 4);
  return {
    name,
    high: parseCount(high),
    normal: parseCount(normal),
    low: parseCount(low),
    workers: parseCount(workers),
  };
}

/** One line of `workers`: `FD IP CLIENT-ID : FUNCTION...`. */
export function parseWorkerLine(line: string): WorkerInfo {
  const colon = line.indexOf(" :");
  const head = line.slice(0, colon < 0 ? line.length : colon).split(" ");
  const fns = colon < 0 ? "" : line.slice(colon + 2).trim();
  return {
    fd: parseCount(head[0]),
    ip: head[1] ?? "",
    clientId: head.slice(2).join(" "),
    functions: fns.length > 0 ? fns.split(" ") : [],
  };
}

/** One line of `show jobs`: `HANDLE\tRETRIES\tIGNORED\tBACKGROUND`. */
export function parseJobLine(line: string): JobInfo {
  const [handle = "", retries, ignored, background] = line.split("\t");
  return {
    handle,
    retries: parseCount(retries),
    ignored: ignored === "1",
    background: background === "1",
  };
}
