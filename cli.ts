#!/usr/bin/env node
/**
 * The `gearman-ts` command: `server` runs a job server with gearmand's flags,
 * `client`, `worker` and `admin` do what `gearman`, `gearman -w` and
 * `gearadmin` do. This file only wires arguments to the modes and turns
 * errors into exit codes: 0 success, 1 bad usage or failure.
 *
 * @example
 * ```sh
 * gearman-ts server -p 4730 -L 0.0.0.0 --verbose=INFO
 * ```
 *
 * @module
 */
import process from "node:process";
import { parseFlags } from "./src/cli/args.ts";
import { runAdminCommand } from "./src/cli/admin_command.ts";
import { runClientCommand } from "./src/cli/client_command.ts";
import { runCompletionCommand } from "./src/cli/completion.ts";
import { runServerCommand } from "./src/cli/server_command.ts";
import { runWorkerCommand } from "./src/cli/worker_command.ts";
import { MAIN_HELP, VERSION_LINE } from "./src/cli/usage.ts";
import { GearmanError, InvalidArgumentError } from "./src/errors.ts";

const MODES: Record<string, (argv: readonly string[]) => Promise<number>> = {
  server: runServerCommand,
  client: runClientCommand,
  worker: runWorkerCommand,
  admin: runAdminCommand,
  completion: runCompletionCommand,
  bench: async (argv) => (await import("./src/bench/bench_command.ts")).runBenchCommand(argv),
};

async function main(argv: readonly string[]): Promise<number> {
  const mode = argv[0];
  const run = mode === undefined ? undefined : MODES[mode];
  if (run !== undefined) return await run(argv.slice(1));
  let parsed;
  try {
    parsed = parseFlags({
      args: [...argv],
      allowPositionals: true,
      options: { help: { type: "boolean", short: "h" }, version: { type: "boolean", short: "V" } },
    });
  } catch (err: unknown) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    const message = `${err.message}; options go after the mode, as in ` +
      "gearman-ts server -p 4730 (see gearman-ts --help)";
    throw new InvalidArgumentError(message, { cause: err });
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(VERSION_LINE + "\n");
    return 0;
  }
  if (values.help) {
    process.stdout.write(MAIN_HELP);
    return 0;
  }
  const what = positionals[0] === undefined ? "missing mode" : `unknown mode '${positionals[0]}'`;
  process.stderr.write(
    `gearman-ts: ${what}; expected server, client, worker, admin, bench or completion\n\n${MAIN_HELP}`,
  );
  return 1;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err: unknown) {
  // Our errors carry a complete one-line message; others (a runtime error
  // such as EADDRINUSE) are kept to their message too: no stack traces.
  const message = err instanceof Error ? err.message : String(err);
  const cause = err instanceof GearmanError && !(err instanceof InvalidArgumentError) &&
      err.cause instanceof Error &&
      !message.includes(err.cause.message)
    ? `: ${err.cause.message}`
    : "";
  process.stderr.write(`gearman-ts: ${message}${cause}\n`);
  process.exitCode = 1;
}
// Signal listeners and stray handles must not keep the process alive.
process.exit(process.exitCode);
