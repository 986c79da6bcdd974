/**
 * What the real-peer tests share: the PHP and Perl peer scripts, why a peer
 * group must be skipped, and running a peer client script for its JSON.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { GEARMAND, hasCommand, type Procs, run } from "../_helpers.ts";

const PEERS = fileURLToPath(new URL("./peers/", import.meta.url));
export const PHP_WORKER = `${PEERS}php_worker.php`;
export const PHP_CLIENT = `${PEERS}php_client.php`;
export const PERL_WORKER = `${PEERS}perl_worker.pl`;
export const PERL_CLIENT = `${PEERS}perl_client.pl`;

/** libgearman return codes (libgearman-1.0/return.h), as PHP reports them. */
export const GEARMAN_SUCCESS = 0;
export const GEARMAN_WORK_EXCEPTION = 23;
export const GEARMAN_WORK_FAIL = 24;
export const GEARMAN_TIMEOUT = 47;

/** A job handle as gearmand (`H:host:N`) and gearman-ts give them. */
export const HANDLE = /^H:[^\s:]+:\d+$/;

/** Why tests of the real gearmand cannot run, or false when they can. */
export function whyNoGearmand(): string | false {
  return hasCommand(GEARMAND)
    ? false
    : `${GEARMAND} is not installed (apt-get install gearman-job-server)`;
}

/** Why the PHP peers cannot run, or false when they can. */
export async function whyNoPhp(): Promise<string | false> {
  if (!hasCommand("php")) return "php is not installed (apt-get install php-cli php-gearman)";
  const r = await run("php", ["-r", "exit(extension_loaded('gearman') ? 0 : 1);"]);
  return r.code === 0
    ? false
    : "the PHP gearman extension is not loaded (apt-get install php-gearman)";
}

/** Why the Perl peers cannot run, or false when they can. */
export async function whyNoPerl(): Promise<string | false> {
  if (!hasCommand("perl")) return "perl is not installed (apt-get install libgearman-client-perl)";
  const r = await run("perl", ["-MGearman::Client", "-MGearman::Worker", "-MJSON::PP", "-e", "1"]);
  return r.code === 0
    ? false
    : "Perl Gearman::Client and Gearman::Worker are not installed (apt-get install libgearman-client-perl)";
}

/** Runs a PHP/Perl client script and parses the one JSON object it prints last. */
export async function runJson(
  procs: Procs,
  cmd: string,
  args: readonly string[],
  timeoutMs = 10_000,
): Promise<Record<string, unknown>> {
  const r = await procs.run(cmd, args, { timeoutMs });
  assert.equal(r.timedOut, false, `${cmd} ${args.join(" ")} timed out; stderr: ${r.stderr}`);
  assert.equal(r.code, 0, `${cmd} ${args.join(" ")} exited ${r.code}; stderr: ${r.stderr}`);
  const line = r.stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(line) as Record<string, unknown>;
}

/** gearmand's log level names, in its order; `verbose` answers one of them. */
export const GEARMAND_LOG_LEVELS = [
  "FATAL",
  "ALERT",
  "CRITICAL",
  "ERROR",
  "WARNING",
  "NOTICE",
  "INFO",
  "DEBUG",
];
