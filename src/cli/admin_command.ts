/**
 * `gearman-ts admin`: gearadmin's flags, plus `--shutdown` and `--json`.
 * Text output is what gearadmin prints; `--json` prints typed results.
 *
 * @module
 */
import { type AdminClient, createAdminClient } from "../client/admin_client.ts";
import { parseFlags } from "./args.ts";
import { helpOrVersion, type Output, processOutput, serverList } from "./io.ts";

/** `gearman-ts admin --help`. */
export const ADMIN_HELP = `Usage: gearman-ts admin [options] ACTION [ACTION ...]

Queries or manages a Gearman job server (gearman-ts or gearmand) through its
text admin protocol, with the flags of gearadmin. The ACTIONs given run in the
order listed below and print what gearadmin prints; --json prints typed
results instead.

Server (-h is the host, as in gearadmin; help is -H or --help):
  -h, --host HOST            server host (default 127.0.0.1)
  -p, --port PORT            server port (default 4730)

Queries:
      --status               per function: jobs in all, jobs running, workers
      --priority-status      queued jobs per priority (high, normal, low)
      --workers              connections and the functions they serve
      --show-jobs            jobs: handle, retries, ignored, background
      --show-unique-jobs     unique ids of queued jobs
      --getpid               the server's process id
      --server-version       the server's version
      --server-verbose       the server's log level

Changes:
      --cancel-job HANDLE    remove a queued job
      --create-function NAME create a function
      --drop-function NAME   drop a function without workers or running jobs
      --shutdown             stop the server now (gearman-ts: loopback only)
      --shutdown-graceful    stop once no job is queued or running

Output:
      --json                 print results as JSON (one value, or an array)

General:
  -H, --help                 show this help and exit
  -V, --version              print this program's version and exit

Exit status:
  0 on success; 1 when the server could not be reached, refused a command,
  or an option was wrong.

Examples:
  gearman-ts admin --status --workers
  gearman-ts admin -h queue.example -p 4730 --show-jobs --json
  gearman-ts admin --shutdown-graceful

See also: gearman-ts server --help, gearadmin(1).
`;

/** One requested query: as typed JSON, or as the text gearadmin prints. */
interface Action {
  json(admin: AdminClient): Promise<unknown>;
  text(admin: AdminClient): Promise<string>;
}

const listing = (command: string, typed: (a: AdminClient) => Promise<unknown>): Action => ({
  json: typed,
  text: async (a) => (await a.listing(command)).map((l) => `${l}\n`).join("") + ".\n",
});

const simple = (run: (a: AdminClient) => Promise<unknown>, okText?: string): Action => ({
  json: async (a) => (await run(a)) ?? true,
  text: async (a) => {
    const value = await run(a);
    return okText ?? `${String(value)}\n`;
  },
});

/** Runs admin mode; resolves to the exit code. */
export async function runAdminCommand(
  argv: readonly string[],
  out: Output = processOutput,
): Promise<number> {
  const { values } = parseFlags({
    args: [...argv],
    options: {
      host: { type: "string", short: "h" },
      port: { type: "string", short: "p" },
      status: { type: "boolean" },
      "priority-status": { type: "boolean" },
      workers: { type: "boolean" },
      "show-jobs": { type: "boolean" },
      "show-unique-jobs": { type: "boolean" },
      "cancel-job": { type: "string" },
      "create-function": { type: "string" },
      "drop-function": { type: "string" },
      getpid: { type: "boolean" },
      "server-version": { type: "boolean" },
      "server-verbose": { type: "boolean" },
      shutdown: { type: "boolean" },
      "shutdown-graceful": { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "H" },
      version: { type: "boolean", short: "V" },
    },
  });
  const answered = helpOrVersion(values, ADMIN_HELP, out);
  if (answered !== undefined) return answered;
  const actions: Action[] = [];
  if (values.status) actions.push(listing("status", (a) => a.status()));
  if (values["priority-status"]) actions.push(listing("prioritystatus", (a) => a.priorityStatus()));
  if (values.workers) actions.push(listing("workers", (a) => a.workers()));
  if (values["show-jobs"]) actions.push(listing("show jobs", (a) => a.showJobs()));
  if (values["show-unique-jobs"]) {
    actions.push(listing("show unique jobs", (a) => a.showUniqueJobs()));
  }
  const cancel = values["cancel-job"];
  if (cancel !== undefined) actions.push(simple((a) => a.cancelJob(cancel), "OK\n"));
  const create = values["create-function"];
  if (create !== undefined) actions.push(simple((a) => a.createFunction(create), "OK\n"));
  const drop = values["drop-function"];
  if (drop !== undefined) actions.push(simple((a) => a.dropFunction(drop), "OK\n"));
  if (values.getpid) actions.push(simple((a) => a.getPid()));
  if (values["server-version"]) actions.push(simple((a) => a.version()));
  if (values["server-verbose"]) actions.push(simple((a) => a.verbose()));
  if (values.shutdown) actions.push(simple((a) => a.shutdown(false), "OK\n"));
  if (values["shutdown-graceful"]) actions.push(simple((a) => a.shutdown(true), "OK\n"));
  if (actions.length === 0) {
    out.stderr(
      "gearman-ts admin: nothing to do; give an option such as --status (see gearman-ts admin --help)\n",
    );
    return 1;
  }
  const admin = createAdminClient({ server: serverList(values) });
  try {
    const results: unknown[] = [];
    for (const action of actions) {
      if (values.json === true) results.push(await action.json(admin));
      else out.stdout(await action.text(admin));
    }
    if (values.json === true) {
      out.stdout(JSON.stringify(results.length === 1 ? results[0] : results) + "\n");
    }
  } finally {
    admin.close();
  }
  return 0;
}
