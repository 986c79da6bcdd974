import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { Priority } from "../../src/protocol/constants.ts";
import { SqliteStore } from "../../src/store/sqlite_store.ts";
import { type StoredJob, StoreError } from "../../src/store/store.ts";
import { GEARMAND, hasCommand, startProcess } from "../_helpers.ts";
import { canConnect, freePort } from "../_target.ts";
import { waitFor } from "../_wait.ts";
import { RawClient } from "../_raw_client.ts";
import { PacketType as T } from "../../src/protocol/constants.ts";
import { tempDir } from "./_store.ts";

const dir = tempDir();
after(() => dir.remove());

function job(seq: number, over: Partial<StoredJob> = {}): StoredJob {
  return {
    seq,
    handle: `H:s:${seq}`,
    fn: { name: "f" },
    unique: "",
    reducer: "",
    data: new Uint8Array([seq & 255]),
    priority: Priority.NORMAL,
    when: 0,
    retries: 0,
    ...over,
  };
}

function plain(j: StoredJob) {
  return { ...j, fn: { name: j.fn.name }, data: [...j.data] };
}

describe("SqliteStore", () => {
  it("open() creates the schema in a new file and finds an empty queue", async () => {
    const store = new SqliteStore(dir.file("new.db"));
    const q = await store.open();
    assert.deepEqual(q, { jobs: [], counter: 0 });
    await store.close();
    assert.ok(existsSync(dir.file("new.db")));
  });

  it("commit() inserts, updates and deletes rows that a reopen reads back in order", async () => {
    const path = dir.file("roundtrip.db");
    const store = new SqliteStore(path, { fsync: "always" });
    await store.open();
    const a = job(1, {
      fn: { name: "f\xe9" },
      unique: "u\xff1",
      data: new Uint8Array([0, 1, 0, 255]),
    });
    const b = job(2, { priority: Priority.HIGH, when: 4102444800000, reducer: "r" });
    const c = job(3, { priority: Priority.LOW });
    store.commit({ inserts: [a, b, c], updates: [], deletes: [], counter: 5 });
    store.commit({ inserts: [], updates: [{ ...a, retries: 2 }], deletes: [3], counter: 5 });
    await store.close();
    const again = new SqliteStore(path);
    const q = await again.open();
    await again.close();
    assert.equal(q.counter, 5);
    assert.deepEqual(q.jobs.map(plain), [plain({ ...a, retries: 2 }), plain(b)]);
  });

  it("commit() keeps two jobs of one function with an empty unique as two rows", async () => {
    const path = dir.file("empty-unique.db");
    const store = new SqliteStore(path);
    await store.open();
    store.commit({ inserts: [job(1), job(2)], updates: [], deletes: [], counter: 2 });
    await store.close();
    const again = new SqliteStore(path);
    assert.deepEqual((await again.open()).jobs.map((j) => j.handle), ["H:s:1", "H:s:2"]);
    await again.close();
  });

  it("commit() of groups larger than one multi-row statement inserts and deletes every job once", async () => {
    const path = dir.file("many.db");
    const store = new SqliteStore(path);
    await store.open();
    const jobs = Array.from({ length: 37 }, (_, i) => job(i + 1, { unique: `u${i}` }));
    store.commit({ inserts: jobs, updates: [], deletes: [], counter: 37 });
    const gone = jobs.filter((j) => j.seq % 3 !== 0).map((j) => j.seq);
    store.commit({ inserts: [], updates: [], deletes: gone, counter: 37 });
    await store.close();
    const again = new SqliteStore(path);
    const q = await again.open();
    await again.close();
    assert.deepEqual(q.jobs.map(plain), jobs.filter((j) => j.seq % 3 === 0).map(plain));
  });

  it("commit() deletes before it inserts, so a row deleted and inserted in one group stays", async () => {
    const path = dir.file("order.db");
    const store = new SqliteStore(path);
    await store.open();
    store.commit({ inserts: [job(1)], updates: [], deletes: [], counter: 1 });
    store.commit({ inserts: [job(1)], updates: [], deletes: [1], counter: 1 });
    await store.close();
    const again = new SqliteStore(path);
    assert.deepEqual((await again.open()).jobs.map((j) => j.seq), [1]);
    await again.close();
  });

  it("replace() swaps the whole stored queue and keeps the highest counter", async () => {
    const path = dir.file("replace.db");
    const store = new SqliteStore(path);
    await store.open();
    store.commit({ inserts: [job(1), job(2)], updates: [], deletes: [], counter: 9 });
    store.replace([job(7)], 8);
    await store.close();
    const again = new SqliteStore(path);
    const q = await again.open();
    await again.close();
    assert.deepEqual(q.jobs.map((j) => j.seq), [7]);
    assert.equal(q.counter, 9);
  });

  it("open() rejects with StoreError while another store has the file open", async () => {
    const path = dir.file("locked.db");
    const first = new SqliteStore(path);
    await first.open();
    try {
      const second = new SqliteStore(path);
      await assert.rejects(second.open(), /in use by another process/);
    } finally {
      await first.close();
    }
    const third = new SqliteStore(path);
    await third.open();
    await third.close();
  });

  it("open() rejects with StoreError when the file cannot be created", async () => {
    const store = new SqliteStore(dir.file("no/such/dir/x.db"));
    await assert.rejects(
      store.open(),
      (err: unknown) => err instanceof StoreError && err.code === "STORE",
    );
  });

  it("open() moves a queue gearmand's libsqlite3 module left in the file into its own table", {
    timeout: 30000,
  }, async (t) => {
    if (!hasCommand(GEARMAND)) return t.skip("gearmand not installed");
    const path = dir.file("gearmand.db");
    const port = await freePort();
    const gearmand = startProcess(GEARMAND, [
      "-L",
      "127.0.0.1",
      "-p",
      String(port),
      "-l",
      "stderr",
      "-q",
      "libsqlite3",
      `--libsqlite3-db=${path}`,
    ]);
    try {
      await waitFor(async () => {
        if (gearmand.hasExited) throw new Error(`gearmand exited: ${gearmand.stderr}`);
        return await canConnect(port, 200);
      }, { timeoutMs: 10000, what: "gearmand with -q libsqlite3" });
    } catch (err) {
      await gearmand.kill("SIGKILL");
      if (/libsqlite3|queue/i.test(gearmand.stderr)) {
        return t.skip("this gearmand has no libsqlite3 queue");
      }
      throw err;
    }
    try {
      const client = await RawClient.connect(port);
      client.send(T.SUBMIT_JOB_HIGH_BG, ["gf", "u-high", "h\0i"]);
      client.send(T.SUBMIT_JOB_LOW_BG, ["gf", "u-low", "lo"]);
      client.send(T.SUBMIT_JOB_EPOCH, ["gf", "u-epoch", "4102444800", "later"]);
      for (let i = 0; i < 3; i++) await client.expect(T.JOB_CREATED);
      client.close();
    } finally {
      await gearmand.kill("SIGTERM");
    }

    const store = new SqliteStore(path, { owner: "H:imp" });
    const q = await store.open();
    await store.close();
    const seen = q.jobs.map((
      j,
    ) => [j.unique, j.fn.name, j.priority, j.when, new TextDecoder().decode(j.data)]);
    assert.deepEqual(seen.sort(), [
      ["u-epoch", "gf", Priority.NORMAL, 4102444800000, "later"],
      ["u-high", "gf", Priority.HIGH, 0, "h\0i"],
      ["u-low", "gf", Priority.LOW, 0, "lo"],
    ]);
    assert.ok(q.jobs.every((j) => j.handle === `H:imp:${j.seq}`));
    const reopened = new SqliteStore(path, { owner: "H:imp" });
    assert.equal((await reopened.open()).jobs.length, 3, "the rows are moved, not copied twice");
    await reopened.close();
  });
});
