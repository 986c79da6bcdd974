// The store `gearman-ts server` picks by itself: gearman-ts.db in its working
// directory, replayed at the next start; `-q builtin` keeps nothing.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { PacketType as T } from "../../src/protocol/constants.ts";
import type { Proc } from "../_procs.ts";
import { RawClient } from "../_raw_client.ts";
import { waitFor } from "../_wait.ts";
import { startCli } from "./_cli.ts";
import { handleOf, tempDir } from "./_store.ts";

const dir = tempDir("gearman-ts-cli-store-");

/** The startup lines follow the listening socket by a moment. */
function stderrMatches(proc: Proc, pattern: RegExp): Promise<unknown> {
  return waitFor(() => pattern.test(proc.stderr), {
    timeoutMs: 5000,
    what: `${pattern} on stderr`,
  });
}
after(() => dir.remove());

describe("gearman-ts server store flags", () => {
  it(
    "gearman-ts server with no store flag keeps background jobs in ./gearman-ts.db across a restart",
    {
      timeout: 30000,
    },
    async () => {
      let s = await startCli(["--job-handle-prefix", "H:cli"], dir.path);
      let handle: string;
      try {
        await stderrMatches(
          s.proc,
          /background jobs are kept in sqlite:gearman-ts\.db \(0 replayed\)/,
        );
        const c = await RawClient.connect(s.port);
        c.send(T.SUBMIT_JOB_BG, ["clifn", "", "kept"]);
        handle = await handleOf(c);
        c.close();
      } finally {
        await s.proc.kill("SIGTERM");
      }
      assert.ok(existsSync(dir.file("gearman-ts.db")));
      s = await startCli(["--job-handle-prefix", "H:cli"], dir.path);
      try {
        await stderrMatches(s.proc, /\(1 replayed\)/);
        const w = await RawClient.connect(s.port);
        w.send(T.CAN_DO, ["clifn"]);
        w.send(T.GRAB_JOB);
        assert.deepEqual((await w.expect(T.JOB_ASSIGN)).args, [handle, "clifn", "kept"]);
        w.close();
      } finally {
        await s.proc.kill("SIGTERM");
      }
    },
  );

  it(
    "gearman-ts server -q builtin keeps background jobs in memory only",
    { timeout: 30000 },
    async () => {
      const s = await startCli(["-q", "builtin"], dir.path);
      try {
        await stderrMatches(s.proc, /background jobs are kept in memory only/);
      } finally {
        await s.proc.kill("SIGTERM");
      }
    },
  );
});
