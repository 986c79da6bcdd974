/**
 * `gearman-ts client`: what the gearmand `gearman` CLI does in client mode,
 * with its flags. Each argument is one job; with none, standard input is
 * (with -n/-N, one job per line). Results go to standard output.
 *
 * @module
 */
import process from "node:process";
import { createClient, type Priority } from "../client/client.ts";
import { GearmanError } from "../errors.ts";
import { parseFlags, parseInteger } from "./args.ts";
import {
  helpOrVersion,
  JOB_MODE_FLAGS,
  type Output,
  processOutput,
  readStdin,
  serverList,
} from "./io.ts";

/** `gearman-ts client --help`. */
export const CLIENT_HELP = `Usage: gearman-ts client -f FUNCTION [options] [DATA ...]

Submits jobs to a Gearman job server, like the gearman command-line client,
and writes their results to standard output. Each DATA argument is one job;
with none, standard input is one job (or one job per line with -n or -N).

Server (-h is the host, as in gearman; help is -H or --help):
  -h, --host HOST       server host (default 127.0.0.1)
  -p, --port PORT       server port (default 4730)
      --servers LIST    host:port,host:port,... instead of -h and -p; a job
                        with a unique id goes to the server its id hashes to

Jobs:
  -f, --function NAME   function to call; repeat it to run every job on each
  -b, --background      submit background jobs and do not wait for them
  -I, --high            high priority
  -L, --low             low priority
  -u, --unique ID       unique id: jobs with the same id queued at once run once
  -t, --timeout MS      stop waiting for a result after MS milliseconds

Input and output:
  -s, --no-input        one job with no data; standard input is not read
  -n, --lines           one job per line of standard input
  -N, --strip-lines     as -n, without the newline
  -P, --prefix          print "FUNCTION: " before each result

General:
  -H, --help            show this help and exit
  -V, --version         print the version and exit

Exit status:
  0 when every job succeeded; 1 when a job failed or timed out, no server
  could be reached or an option was wrong (a line on standard error says why).

Examples:
  gearman-ts client -f upper hello          HELLO, from a worker of upper
  gearman-ts client -f upper -n < names     one job per line of the file
  gearman-ts client -f resize -b -I img.png queue a high-priority background job

See also: gearman-ts worker --help, gearman-ts admin --help, gearman(1).
`;

/** Runs client mode; resolves to the exit code (0 when every job succeeded). */
export async function runClientCommand(
  argv: readonly string[],
  out: Output = processOutput,
): Promise<number> {
  const { values, positionals } = parseFlags({
    args: [...argv],
    allowPositionals: true,
    options: {
      ...JOB_MODE_FLAGS,
      background: { type: "boolean", short: "b" },
      high: { type: "boolean", short: "I" },
      low: { type: "boolean", short: "L" },
      unique: { type: "string", short: "u" },
      "no-input": { type: "boolean", short: "s" },
      prefix: { type: "boolean", short: "P" },
      lines: { type: "boolean", short: "n" },
      "strip-lines": { type: "boolean", short: "N" },
      timeout: { type: "string", short: "t" },
    },
  });
  const answered = helpOrVersion(values, CLIENT_HELP, out);
  if (answered !== undefined) return answered;
  const functions = values.function ?? [];
  if (functions.length === 0) {
    out.stderr(
      "gearman-ts client: no function given; use -f NAME (see gearman-ts client --help)\n",
    );
    return 1;
  }
  if (values.high === true && values.low === true) {
    out.stderr("gearman-ts client: -I (high) and -L (low) exclude each other\n");
    return 1;
  }
  const priority: Priority = values.high === true ? "high" : values.low === true ? "low" : "normal";
  const timeoutMs = values.timeout === undefined
    ? undefined
    : parseInteger("-t", values.timeout, 1, 2 ** 31 - 1);
  const payloads = await jobPayloads(positionals, values);
  const client = createClient({ servers: serverList(values) });
  let failures = 0;
  try {
    for (const fn of functions) {
      for (const payload of payloads) {
        try {
          if (values.background === true) {
            await client.submitBackground(fn, payload, {
              priority,
              ...(values.unique === undefined ? {} : { unique: values.unique }),
            });
            continue;
          }
          const result = await client.submit(fn, payload, {
            priority,
            ...(values.unique === undefined ? {} : { unique: values.unique }),
            ...(timeoutMs === undefined ? {} : { timeoutMs }),
          });
          if (values.prefix === true) out.stdout(`${fn}: `);
          out.write(result.data);
          if (values.prefix === true) out.stdout("\n");
        } catch (err) {
          if (!(err instanceof GearmanError)) throw err;
          failures++;
          out.stderr(`gearman-ts client: ${fn}: ${err.message}\n`);
        }
      }
    }
  } finally {
    client.close();
  }
  return failures === 0 ? 0 : 1;
}

async function jobPayloads(
  positionals: string[],
  values: { "no-input"?: boolean; lines?: boolean; "strip-lines"?: boolean },
): Promise<Uint8Array[]> {
  const encoder = new TextEncoder();
  if (positionals.length > 0) return positionals.map((p) => encoder.encode(p));
  if (values["no-input"] === true) return [new Uint8Array(0)];
  const input = await readStdin(process.stdin);
  if (values.lines !== true && values["strip-lines"] !== true) return [input];
  const text = new TextDecoder().decode(input);
  const lines = text.split(/(?<=\n)/).filter((l) => l.length > 0);
  return lines.map((l) =>
    encoder.encode(values["strip-lines"] === true ? l.replace(/\r?\n$/, "") : l)
  );
}
