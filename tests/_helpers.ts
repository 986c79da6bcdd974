/**
 * Shared test helpers, re-exported from one file per concern so a test can
 * import everything from here:
 *
 * - `_wait.ts`: polling with deadlines (`waitFor`, `withTimeout`, `delay`)
 * - `_procs.ts`: child processes with bounded lifetimes (`run`, `Proc`, `Procs`, `hasCommand`)
 * - `_target.ts`: the server under test on 127.0.0.1 (`startTarget`, `startGearmand`,
 *   `startGearmanTs`, `freePort`)
 * - `_raw_conn.ts`: a raw binary + admin protocol peer (`RawConn`, `PT`, `admin`)
 * - `_admin_text.ts`: admin listing parsers (`parseStatus`, `waitForWorkers`, ...)
 *
 * All of them use only `node:` modules, so the same files run under
 * `node --test`, `deno test` and `bun test`. Everything is asynchronous on
 * purpose: our server may run in this very process, so a blocking call
 * (spawnSync, a busy wait) would deadlock it.
 */
export * from "./_wait.ts";
export * from "./_procs.ts";
export * from "./_target.ts";
export * from "./_raw_conn.ts";
export * from "./_admin_text.ts";
