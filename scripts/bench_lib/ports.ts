/**
 * Reaching the job servers under test, always on 127.0.0.1: a free port to
 * start one on, and waits until it listens and until its workers register.
 *
 * @module
 */
import { connect, createServer } from "node:net";

/** The only address the benchmarks use. */
export const HOST = "127.0.0.1";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().once("error", reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** True when `port` accepts a connection. */
function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, HOST).once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/**
 * Polls `port` every `pollMs` until it accepts connections, the server
 * `hasExited`, or `timeoutMs` passes; says which came first.
 */
export async function waitListening(
  port: number,
  hasExited: () => boolean,
  timeoutMs: number,
  pollMs: number,
): Promise<"listening" | "exited" | "timeout"> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await canConnect(port)) return "listening";
    if (hasExited()) return "exited";
    if (Date.now() > deadline) return "timeout";
    await sleep(pollMs);
  }
}

/** The lines of one admin command's listing (up to the "." line). */
function adminListing(port: number, command: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = connect(port, HOST);
    let text = "";
    s.setEncoding("latin1");
    s.on("data", (d: string) => {
      text += d;
      if (text === ".\n" || text.endsWith("\n.\n")) {
        s.destroy();
        resolve(text.split("\n").slice(0, -2));
      }
    });
    s.on("error", reject);
    s.write(`${command}\n`);
  });
}

/** What `waitWorkers` watches while it waits: the worker processes. */
export interface Watched {
  readonly name: string;
  readonly hasExited: boolean;
}

/** Waits until `fn` has `count` worker connections (20 s at most), failing when one of `procs` exits. */
export async function waitWorkers(
  port: number,
  fn: string,
  count: number,
  procs: readonly Watched[],
): Promise<void> {
  const end = Date.now() + 20_000;
  for (;;) {
    const line = (await adminListing(port, "status")).find((l) => l.startsWith(fn + "\t"));
    if (line !== undefined && Number(line.split("\t")[3]) >= count) return;
    const dead = procs.find((p) => p.hasExited);
    if (dead !== undefined) throw new Error(`${dead.name} exited before registering`);
    if (Date.now() > end) throw new Error(`workers of ${fn} did not register`);
    await sleep(20);
  }
}
