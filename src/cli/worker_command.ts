/**
 * `gearman-ts worker`: what `gearman -w` does. Each job runs COMMAND with the
 * workload on its standard input; its standard output is the result and a
 * non-zero exit fails the job. Without a command the workload is echoed.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { createWorker } from "../worker/worker.ts";
import { concatBytes } from "../util/bytes.ts";
import { parseFlags, parseInteger } from "./args.ts";
import { helpOrVersion, JOB_MODE_FLAGS, type Output, processOutput, serverList } from "./io.ts";
import { onSignals } from "./signals.ts";

/** `gearman-ts worker --help`. */
export const WORKER_HELP =
  `Usage: gearman-ts worker -f FUNCTION ... [options] [-- COMMAND [ARGS ...]]

Serves jobs of a Gearman job server, like "gearman -w". For each job it runs
COMMAND with the workload on standard input and returns what the command
writes to standard output; a non-zero exit status fails the job (its standard
error passes through). Without COMMAND the workload is sent back unchanged.
SIGTERM or SIGINT stop taking jobs, let running ones finish, then exit.

Server (-h is the host, as in gearman; help is -H or --help):
  -h, --host HOST         server host (default 127.0.0.1)
  -p, --port PORT         server port (default 4730)
      --servers LIST      host:port,host:port,... instead of -h and -p;
                          jobs are taken from every one

Jobs:
  -f, --function NAME     function to serve; repeat it to serve several
  -c, --count N           exit after N jobs
  -j, --concurrency N     jobs run at once (default 1)
  -i, --client-id ID      name shown in the server's "workers" listing

General:
  -H, --help              show this help and exit
  -V, --version           print the version and exit

Exit status:
  0 after -c jobs or a stop signal; 1 when an option was wrong.

Examples:
  gearman-ts worker -f upper -- tr a-z A-Z
  gearman-ts worker -f count -j 4 -- wc -c
  gearman-ts worker --servers a:4730,b:4730 -f echo -c 1

See also: gearman-ts client --help, gearman-ts admin --help, gearman(1).
`;

/** Runs worker mode until stopped or `-c` jobs are done; resolves to the exit code. */
export async function runWorkerCommand(
  argv: readonly string[],
  out: Output = processOutput,
): Promise<number> {
  const { values, positionals } = parseFlags({
    args: [...argv],
    allowPositionals: true,
    options: {
      ...JOB_MODE_FLAGS,
      count: { type: "string", short: "c" },
      concurrency: { type: "string", short: "j" },
      "client-id": { type: "string", short: "i" },
    },
  });
  const answered = helpOrVersion(values, WORKER_HELP, out);
  if (answered !== undefined) return answered;
  const functions = values.function ?? [];
  if (functions.length === 0) {
    out.stderr(
      "gearman-ts worker: no function given; use -f NAME (see gearman-ts worker --help)\n",
    );
    return 1;
  }
  const count = values.count === undefined
    ? Infinity
    : parseInteger("-c", values.count, 1, 2 ** 31 - 1);
  const concurrency = values.concurrency === undefined
    ? 1
    : parseInteger("-j", values.concurrency, 1, 10000);
  const [command, ...args] = positionals;
  const worker = createWorker({
    servers: serverList(values),
    concurrency: Math.min(concurrency, count),
    ...(values["client-id"] === undefined ? {} : { clientId: values["client-id"] }),
  });
  const { promise: finished, resolve: finish } = Promise.withResolvers<void>();
  let started = 0;
  let done = 0;
  const handler = async (job: { workload: Uint8Array }) => {
    started++;
    if (started >= count) void worker.stop();
    try {
      return command === undefined
        ? job.workload
        : await runCommand(command, args, job.workload, out);
    } finally {
      if (++done >= count) finish();
    }
  };
  for (const fn of functions) worker.register(fn, handler);
  const removeSignals = onSignals({ SIGTERM: () => finish(), SIGINT: () => finish() });
  worker.start();
  try {
    await finished;
    await worker.stop();
  } finally {
    removeSignals();
  }
  return 0;
}

/** Runs the command for one job: workload in, stdout out, non-zero exit throws. */
function runCommand(
  command: string,
  args: string[],
  input: Uint8Array,
  out: Output,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "inherit"] });
    const parts: Uint8Array[] = [];
    child.stdout.on("data", (chunk: Uint8Array) => parts.push(chunk));
    child.on("error", (err) => {
      out.stderr(`gearman-ts worker: cannot run ${command}: ${err.message}\n`);
      reject(err);
    });
    child.on("close", (code) => {
      if (code === 0) resolve(concatBytes(parts));
      else reject(new Error(`${command} exited with status ${code}`));
    });
    child.stdin.on("error", () => {}); // the command may exit without reading
    child.stdin.end(input);
  });
}
