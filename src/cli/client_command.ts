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
import { serverList, type Output, processOutput, readStdin } from "./io.ts";

const CLIENT_HELP = `Usage: gearman-ts client -f FUNCTION [options] [DATA ...]

Submits jobs like the gearman command-line client. Each DATA argument is one
job; without any, standard input is one job (or one job per line with -n/-N).
Results are written to standard output. Exits 1 if any job failed.

Options:
  -f, --function NAME   function to run (repeat to run every job on each)
  -h, --host HOST       server host (default 127.0.0.1)
  -p, --port PORT       server port (default 4730)
      --servers LIST    host:port,host:port... instead of -h/-p
  -b, --background      submit background jobs and do not wait
  -I, --high            high priority
  -L, --low             low priority
  -u, --unique ID       unique id (jobs with the same id run once)
  -s, --no-input        send one job with no data, without reading stdin
  -n, --lines           one job per line of standard input
  -N, --strip-lines     same as -n, without the newline
  -P, --prefix          prefix each result with "FUNCTION: "
  -t, --timeout MS      give up waiting for a result after MS milliseconds
  -H, --help            this help
`;

/** Runs client mode; resolves to the exit code (0 when every job succeeded). */
export async function runClientCommand(argv: readonly string[], out: Output = processOutput): Promise<number> {
  const { values, positionals } = parseFlags({
    args: [...argv],
    allowPositionals: true,
    options: {
      function: { type: "string", short: "f", multiple: true },
      host: { type: "string", short: "h" },
      port: { type: "string", short: "p" },
      servers: { type: "string" },
      background: { type: "boolean", short: "b" },
      high: { type: "boolean", short: "I" },
      low: { type: "boolean", short: "L" },
      unique: { type: "string", short: "u" },
      "no-input": { type: "boolean", short: "s" },
      prefix: { type: "boolean", short: "P" },
      lines: { type: "boolean", short: "n" },
      "strip-lines": { type: "boolean", short: "N" },
      timeout: { type: "string", short: "t" },
      help: { type: "boolean", short: "H" },
    },
  });
  if (values.help === true) {
    out.stdout(CLIENT_HELP);
    return 0;
  }
  const functions = values.function ?? [];
  if (functions.length === 0) {
    out.stderr("gearman-ts client: no function given; use -f NAME (see gearman-ts client --help)\n");
    return 1;
  }
  if (values.high === true && values.low === true) {
    out.stderr("gearman-ts client: -I (high) and -L (low) exclude each other\n");
    return 1;
  }
  const priority: Priority = values.high === true ? "high" : values.low === true ? "low" : "normal";
  const timeoutMs = values.timeout === undefined ? undefined : parseInteger("-t", values.timeout, 1, 2 ** 31 - 1);
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
  return lines.map((l) => encoder.encode(values["strip-lines"] === true ? l.replace(/\r?\n$/, "") : l));
}
