// The durability promise, end to end: a client streams background submits to
// `cli.ts server` in a child process, the child is killed with SIGKILL in the
// middle of the stream, and a new server on the same store must run every job
// whose JOB_CREATED the client saw, under its original handle. Runs on the
// runtime that runs the test (so the suite under node, deno and bun covers
// all three SQLite drivers), and on PostgreSQL when one is reachable.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { detectRuntime } from "../../src/net/runtime.ts";
import { PacketType as T } from "../../src/protocol/constants.ts";
import type { Proc } from "../_procs.ts";
import { RawClient } from "../_raw_client.ts";
import { startCli } from "./_cli.ts";
import { PG_URL, postgresUnavailable, tempDir, uniqueOwner, withPostgres } from "./_store.ts";

const WINDOW = 100;
/** Submits acknowledged before the kill: enough to span many group commits. */
const KILL_AFTER = 1500;

const dir = tempDir("gearman-ts-crash-");
after(() => dir.remove());

/**
 * Streams pipelined background submits until the connection drops, killing
 * the server with SIGKILL once {@link KILL_AFTER} have been acknowledged and
 * another window is on its way. Returns handle → payload of every
 * acknowledged submit, and how many were sent.
 */
async function streamUntilKilled(
  proc: Proc,
  port: number,
): Promise<{ acked: Map<string, string>; sent: number }> {
  const client = await RawClient.connect(port);
  const acked = new Map<string, string>();
  let sent = 0;
  let killed = false;
  try {
    for (;;) {
      const first = sent;
      for (let i = 0; i < WINDOW; i++, sent++) {
        client.send(T.SUBMIT_JOB_BG, ["crash", `u${sent}`, `p${sent}`]);
      }
      if (!killed && acked.size >= KILL_AFTER) {
        killed = true;
        process.kill(proc.pid, "SIGKILL");
      }
      for (let i = 0; i < WINDOW; i++) {
        const reply = await client.next(10000);
        assert.equal(reply.type, T.JOB_CREATED, `reply ${reply.name} ${reply.args.join(" ")}`);
        acked.set(reply.args[0] as string, `p${first + i}`);
      }
    }
  } catch (err) {
    if (!client.closed) throw err;
  } finally {
    client.close();
  }
  await proc.exited;
  return { acked, sent };
}

/** Grabs and completes every queued job; returns handle → payload. */
async function drain(port: number): Promise<Map<string, string>> {
  const worker = await RawClient.connect(port);
  const ran = new Map<string, string>();
  try {
    worker.send(T.CAN_DO, ["crash"]);
    for (;;) {
      worker.send(T.GRAB_JOB);
      const reply = await worker.next(10000);
      if (reply.type === T.NO_JOB) break;
      assert.equal(reply.type, T.JOB_ASSIGN);
      const [handle, , data] = reply.args as [string, string, string];
      assert.ok(!ran.has(handle), `${handle} handed out twice`);
      ran.set(handle, data);
      worker.send(T.WORK_COMPLETE, [handle, ""]);
    }
  } finally {
    worker.close();
  }
  return ran;
}

async function crashAndReplay(store: string, prefix: string): Promise<void> {
  const args = ["--store", store, "--job-handle-prefix", prefix];
  const first = await startCli(args);
  let streamed: { acked: Map<string, string>; sent: number };
  try {
    streamed = await streamUntilKilled(first.proc, first.port);
  } finally {
    await first.proc.kill("SIGKILL");
  }
  const { acked, sent } = streamed;
  assert.ok(
    acked.size >= KILL_AFTER,
    `only ${acked.size} acknowledged before the server died: ${first.proc.stderr}`,
  );
  assert.ok(acked.size < sent, "the kill came while submits were in flight");
  const second = await startCli(args);
  try {
    const ran = await drain(second.port);
    const missing = [...acked].filter(([handle, data]) => ran.get(handle) !== data);
    assert.deepEqual(
      missing.slice(0, 5),
      [],
      `${missing.length} of ${acked.size} acknowledged jobs lost`,
    );
  } finally {
    await second.proc.kill("SIGTERM");
  }
}

describe("gearman-ts server killed with SIGKILL", () => {
  it(`runs every acknowledged background job after a restart on SQLite (${detectRuntime()})`, {
    timeout: 60000,
  }, async () => {
    await crashAndReplay(`sqlite:${dir.file("crash.db")}`, "H:crash");
  });

  it(`runs every acknowledged background job after a restart on PostgreSQL (${detectRuntime()})`, {
    timeout: 60000,
  }, async (t) => {
    const unavailable = await postgresUnavailable();
    if (unavailable !== undefined) return t.skip(unavailable);
    const prefix = uniqueOwner("crash");
    try {
      await crashAndReplay(PG_URL, prefix);
    } finally {
      await withPostgres(async (sql) => {
        await sql`DELETE FROM gearman_ts_jobs WHERE owner = ${prefix}`;
        await sql`DELETE FROM gearman_ts_servers WHERE owner = ${prefix}`;
      });
    }
  });
});
