// `cli.ts server` as a child process on the runtime running the test (Deno
// needs `run -A`), on a free port of 127.0.0.1.
import { fileURLToPath } from "node:url";
import process from "node:process";
import { detectRuntime } from "../../src/net/runtime.ts";
import { type Proc, startProcess } from "../_procs.ts";
import { canConnect, freePort } from "../_target.ts";
import { waitFor } from "../_wait.ts";

const CLI = fileURLToPath(new URL("../../cli.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Starts `cli.ts server ARGS -p PORT` in `cwd` (default: the repository) and waits until it listens. */
export async function startCli(
  args: readonly string[],
  cwd = ROOT,
): Promise<{ proc: Proc; port: number }> {
  const port = await freePort();
  const [cmd, ...pre] =
    (detectRuntime() === "deno" ? [process.execPath, "run", "-A"] : [process.execPath]) as [
      string,
      ...string[],
    ];
  const proc = startProcess(cmd, [
    ...pre,
    CLI,
    "server",
    "-L",
    "127.0.0.1",
    "-p",
    String(port),
    "--config-file=/dev/null",
    "--log-file",
    "stderr",
    ...args,
  ], { cwd });
  try {
    await waitFor(async () => proc.hasExited || await canConnect(port, 200), {
      timeoutMs: 20000,
      intervalMs: 25,
      what: `cli.ts server ${args.join(" ")} on port ${port}`,
    });
  } catch (err) {
    await proc.kill("SIGKILL");
    throw err;
  }
  if (proc.hasExited) throw new Error(`cli.ts server exited at start: ${proc.stderr.trim()}`);
  return { proc, port };
}
