// How a server with a durable store answers background submits: JOB_CREATED
// only after the commit, replies in request order, nothing runnable before it
// is stored, QUEUE_ERROR when the store fails.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { PacketType as T } from "../../src/protocol/constants.ts";
import { SqliteStore } from "../../src/store/sqlite_store.ts";
import { startServer } from "../server/_server.ts";
import { ControlledStore, handleOf, sqliteRows, sync, tempDir } from "./_store.ts";

const dir = tempDir();
after(() => dir.remove());
let files = 0;
const newDb = () => dir.file(`commit-${++files}.db`);

describe("GearmanServer with a store", () => {
  it("JOB_CREATED for a background submit waits for its commit; later replies wait behind it", {
    timeout: 10000,
  }, async () => {
    const store = new ControlledStore(new SqliteStore(newDb()));
    const s = await startServer({ store });
    try {
      const client = await s.connect();
      const worker = await s.connect();
      worker.send(T.CAN_DO, ["held"]);
      await sync(worker);
      store.hold();
      client.send(T.SUBMIT_JOB_BG, ["held", "", "x"]);
      client.send(T.ECHO_REQ, ["after"]);
      client.send(T.SUBMIT_JOB, ["other", "", "y"]);
      assert.ok(await client.silent(150), "nothing comes back before the commit");
      worker.send(T.GRAB_JOB);
      assert.equal((await worker.next()).type, T.NO_JOB, "an uncommitted job is not runnable");
      store.release();
      const handle = await handleOf(client);
      assert.deepEqual((await client.expect(T.ECHO_RES)).args, ["after"]);
      assert.notEqual(await handleOf(client), handle);
      worker.send(T.GRAB_JOB);
      assert.equal((await worker.expect(T.JOB_ASSIGN)).args[0], handle);
    } finally {
      await s.stop();
    }
  });

  it("WORK_* packets for a foreground job are not held behind a background JOB_CREATED", {
    timeout: 10000,
  }, async () => {
    const store = new ControlledStore(new SqliteStore(newDb()));
    const s = await startServer({ store });
    try {
      const client = await s.connect();
      const worker = await s.connect();
      client.send(T.SUBMIT_JOB, ["fg", "", "a"]);
      const fg = await handleOf(client);
      store.hold();
      client.send(T.SUBMIT_JOB_BG, ["bg", "", "b"]);
      worker.send(T.CAN_DO, ["fg"]);
      worker.send(T.GRAB_JOB);
      await worker.expect(T.JOB_ASSIGN);
      worker.send(T.WORK_COMPLETE, [fg, "done"]);
      assert.deepEqual((await client.expect(T.WORK_COMPLETE)).args, [fg, "done"]);
      store.release();
      assert.match(await handleOf(client), /^H:test:\d+$/);
    } finally {
      await s.stop();
    }
  });

  it("a foreground job's result never overtakes its JOB_CREATED queued behind a commit", {
    timeout: 10000,
  }, async () => {
    const store = new ControlledStore(new SqliteStore(newDb()));
    const s = await startServer({ store, grabWait: 60_000 });
    try {
      const client = await s.connect();
      const worker = await s.connect();
      worker.send(T.CAN_DO, ["fg-behind"]);
      await sync(worker);
      worker.send(T.GRAB_JOB); // waits for the job (grabWait)
      store.hold();
      client.send(T.SUBMIT_JOB_BG, ["bg", "", "b"]);
      client.send(T.SUBMIT_JOB, ["fg-behind", "", "a"]);
      const fg = (await worker.expect(T.JOB_ASSIGN)).args[0] as string;
      worker.send(T.WORK_COMPLETE, [fg, "done"]);
      await sync(worker);
      store.release();
      const bg = await handleOf(client);
      assert.notEqual(bg, fg);
      assert.deepEqual((await client.expect(T.JOB_CREATED)).args, [fg]);
      assert.deepEqual((await client.expect(T.WORK_COMPLETE)).args, [fg, "done"]);
    } finally {
      await s.stop();
    }
  });

  it(
    "a background submit that joins a job whose commit is in flight gets its handle after the commit",
    {
      timeout: 10000,
    },
    async () => {
      const path = newDb();
      const store = new ControlledStore(new SqliteStore(path));
      const s = await startServer({ store });
      let h: string;
      try {
        const a = await s.connect();
        const b = await s.connect();
        store.hold();
        a.send(T.SUBMIT_JOB_BG, ["co", "same", "first"]);
        await sync(b);
        b.send(T.SUBMIT_JOB_BG, ["co", "same", "second"]);
        assert.ok(await b.silent(100));
        store.release();
        h = await handleOf(a);
        assert.equal(await handleOf(b), h);
      } finally {
        await s.stop();
      }
      const rows = await sqliteRows(path);
      assert.deepEqual(rows.map((j) => [j.handle, new TextDecoder().decode(j.data)]), [[
        h,
        "first",
      ]]);
    },
  );

  it("a background submit that joins a foreground job stores it before answering", {
    timeout: 10000,
  }, async () => {
    const path = newDb();
    const s = await startServer({ store: `sqlite:${path}` });
    let h: string;
    try {
      const fg = await s.connect();
      const bg = await s.connect();
      fg.send(T.SUBMIT_JOB, ["mix", "u", "fg data"]);
      h = await handleOf(fg);
      bg.send(T.SUBMIT_JOB_BG, ["mix", "u", "ignored"]);
      assert.equal(await handleOf(bg), h);
      fg.close();
    } finally {
      await s.stop();
    }
    const rows = await sqliteRows(path);
    assert.deepEqual(rows.map((j) => [j.handle, new TextDecoder().decode(j.data)]), [[
      h,
      "fg data",
    ]]);
  });

  it(
    "a submit that cannot be stored gets ERROR QUEUE_ERROR; stored jobs stay; the server recovers",
    {
      timeout: 10000,
    },
    async () => {
      const path = newDb();
      const store = new ControlledStore(new SqliteStore(path));
      const s = await startServer({ store });
      let kept: string, again: string;
      try {
        const c = await s.connect();
        c.send(T.SUBMIT_JOB_BG, ["q", "", "kept"]);
        kept = await handleOf(c);
        store.failing = true;
        c.send(T.SUBMIT_JOB_BG, ["q", "", "lost"]);
        c.send(T.ECHO_REQ, ["in order"]);
        const err = await c.expect(T.ERROR);
        assert.equal(err.args[0], "QUEUE_ERROR");
        assert.match(err.args[1] as string, /disk full/);
        assert.deepEqual((await c.expect(T.ECHO_RES)).args, ["in order"]);
        assert.deepEqual(await c.admin("show jobs", true), [`${kept}\t0\t0\t1`]);
        store.failing = false;
        c.send(T.SUBMIT_JOB_BG, ["q", "", "again"]);
        again = await handleOf(c);
      } finally {
        await s.stop();
      }
      assert.deepEqual((await sqliteRows(path)).map((j) => j.handle), [kept, again]);
    },
  );

  it(
    "a background submit joining a foreground job that cannot be stored leaves the job foreground",
    {
      timeout: 10000,
    },
    async () => {
      const store = new ControlledStore(new SqliteStore(newDb()));
      const s = await startServer({ store });
      try {
        const fg = await s.connect();
        fg.send(T.SUBMIT_JOB, ["joined", "u1", "payload"]);
        const h = await handleOf(fg);
        store.failing = true;
        const bg = await s.connect();
        bg.send(T.SUBMIT_JOB_BG, ["joined", "u1", "payload"]);
        assert.equal((await bg.expect(T.ERROR)).args[0], "QUEUE_ERROR");
        const admin = await s.connect();
        assert.deepEqual(await admin.admin("show jobs", true), [`${h}\t0\t0\t0`]);
      } finally {
        await s.stop();
      }
    },
  );

  it(
    "cancel job on a background job whose commit is in flight answers its submitter and leaves no row",
    {
      timeout: 10000,
    },
    async () => {
      const path = newDb();
      const store = new ControlledStore(new SqliteStore(path));
      const s = await startServer({ store });
      try {
        const c = await s.connect();
        const admin = await s.connect();
        store.hold();
        c.send(T.SUBMIT_JOB_BG, ["cx", "", "x"]);
        await sync(admin);
        assert.deepEqual(await admin.admin("cancel job H:test:1"), ["OK"]);
        assert.equal(await handleOf(c), "H:test:1");
        store.release();
        const w = await s.connect();
        w.send(T.CAN_DO, ["cx"]);
        w.send(T.GRAB_JOB);
        assert.equal((await w.next()).type, T.NO_JOB);
      } finally {
        await s.stop();
      }
      assert.deepEqual(await sqliteRows(path), []);
    },
  );

  it(
    "createServer() with the memory store answers a background submit at once",
    { timeout: 10000 },
    async () => {
      const s = await startServer({ store: "memory" });
      try {
        const c = await s.connect();
        c.send(T.SUBMIT_JOB_BG, ["m", "", "x"]);
        assert.equal(await handleOf(c), "H:test:1");
      } finally {
        await s.stop();
      }
    },
  );
});
