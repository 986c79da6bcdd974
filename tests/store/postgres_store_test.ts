import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { PacketType as T, Priority } from "../../src/protocol/constants.ts";
import { PostgresStore } from "../../src/store/postgres_store.ts";
import { conninfoToUrl } from "../../src/store/store.ts";
import type { StoredJob } from "../../src/store/store.ts";
import { startServer } from "../server/_server.ts";
import { PG_URL, postgresUnavailable, uniqueOwner, withPostgres } from "./_store.ts";

const unavailable = await postgresUnavailable();
const owners: string[] = [];
const owner = (tag: string) => {
  const o = uniqueOwner(tag);
  owners.push(o);
  return o;
};

after(async () => {
  if (unavailable !== undefined || owners.length === 0) return;
  await withPostgres(async (sql) => {
    await sql`DELETE FROM gearman_ts_jobs WHERE owner = ANY(${owners})`;
    await sql`DELETE FROM gearman_ts_servers WHERE owner = ANY(${owners})`;
  });
});

function job(prefix: string, seq: number, over: Partial<StoredJob> = {}): StoredJob {
  return {
    seq,
    handle: `${prefix}:${seq}`,
    fn: { name: "pf" },
    unique: "",
    reducer: "",
    data: new Uint8Array([0, seq & 255, 0]),
    priority: Priority.NORMAL,
    when: 0,
    retries: 0,
    ...over,
  };
}

const plain = (j: StoredJob) => ({ ...j, fn: { name: j.fn.name }, data: [...j.data] });

describe("PostgresStore", () => {
  it("commit() writes rows a reopen reads back, and each owner sees only its own", {
    timeout: 20000,
  }, async (t) => {
    if (unavailable !== undefined) return t.skip(unavailable);
    const a = owner("pga");
    const b = owner("pgb");
    const sa = new PostgresStore(PG_URL, { owner: a, fsync: "always" });
    const sb = new PostgresStore(PG_URL, { owner: b });
    assert.deepEqual(await sa.open(), { jobs: [], counter: 0 });
    await sb.open();
    const x = job(a, 1, {
      fn: { name: "f\xe9" },
      unique: "u\xff",
      priority: Priority.HIGH,
      when: 4102444800000,
    });
    const y = job(a, 2, { reducer: "red" });
    const z = job(a, 3);
    await sa.commit({ inserts: [x, y, z], updates: [], deletes: [], counter: 4 });
    await sa.commit({ inserts: [], updates: [{ ...y, retries: 3 }], deletes: [3], counter: 4 });
    await sb.commit({ inserts: [job(b, 1)], updates: [], deletes: [], counter: 1 });
    await sa.close();
    await sb.close();
    const again = new PostgresStore(PG_URL, { owner: a });
    const q = await again.open();
    await again.close();
    assert.equal(q.counter, 4);
    assert.deepEqual(q.jobs.map(plain), [plain(x), plain({ ...y, retries: 3 })]);
  });

  it("a server on PostgreSQL replays its queue with the same handles after a restart", {
    timeout: 20000,
  }, async (t) => {
    if (unavailable !== undefined) return t.skip(unavailable);
    const prefix = owner("pgs");
    let s = await startServer({ store: PG_URL, jobHandlePrefix: prefix });
    let handles: string[];
    try {
      const c = await s.connect();
      for (let i = 0; i < 3; i++) c.send(T.SUBMIT_JOB_BG, ["pgfn", "", `job${i}`]);
      handles = [];
      for (let i = 0; i < 3; i++) handles.push((await c.expect(T.JOB_CREATED)).args[0] as string);
    } finally {
      await s.stop();
    }
    s = await startServer({ store: PG_URL, jobHandlePrefix: prefix });
    try {
      const w = await s.connect();
      w.send(T.CAN_DO, ["pgfn"]);
      for (let i = 0; i < 3; i++) {
        w.send(T.GRAB_JOB);
        assert.deepEqual((await w.expect(T.JOB_ASSIGN)).args, [handles[i], "pgfn", `job${i}`]);
      }
    } finally {
      await s.stop();
    }
  });

  it("the server recovers by itself when its database connection is killed", {
    timeout: 30000,
  }, async (t) => {
    if (unavailable !== undefined) return t.skip(unavailable);
    const prefix = owner("pgr");
    const s = await startServer({ store: PG_URL, jobHandlePrefix: prefix });
    try {
      const c = await s.connect();
      c.send(T.SUBMIT_JOB_BG, ["pgr", "", "before"]);
      const before = (await c.expect(T.JOB_CREATED)).args[0] as string;
      const killed = await withPostgres((sql) =>
        sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE application_name = ${`gearman-ts ${prefix}`.slice(0, 63)}`
      );
      assert.equal(killed.length, 1, "the server's one connection was found and killed");
      // The first commit may fail on the dead connection; the next one reconnects.
      let after: string | undefined;
      const errors: string[] = [];
      for (let attempt = 0; attempt < 5 && after === undefined; attempt++) {
        c.send(T.SUBMIT_JOB_BG, ["pgr", "", "after"]);
        const reply = await c.next(10000);
        if (reply.type === T.JOB_CREATED) after = reply.args[0];
        else errors.push(reply.args.join(" "));
      }
      assert.ok(after !== undefined, `no stored submit after the kill: ${errors.join("; ")}`);
      assert.ok(errors.every((e) => e.startsWith("QUEUE_ERROR")), errors.join("; "));
      const rows = await withPostgres((sql) =>
        sql`SELECT handle FROM gearman_ts_jobs WHERE owner = ${prefix} ORDER BY seq`
      );
      assert.deepEqual(rows.map((r: { handle: string }) => r.handle), [before, after]);
    } finally {
      await s.stop();
    }
  });
});

describe("conninfoToUrl()", () => {
  it("turns gearmand's --libpq-conninfo keyword=value form into a URL", () => {
    assert.equal(
      conninfoToUrl("host=db.example port=5433 dbname=gearman user=g password='a b\\'c'"),
      "postgres://g:a%20b'c@db.example:5433/gearman",
    );
    assert.equal(conninfoToUrl("dbname=q"), "postgres://localhost/q");
    assert.equal(conninfoToUrl("postgresql://u@h/d"), "postgresql://u@h/d");
    assert.throws(() => conninfoToUrl("host"), /conninfo/);
  });
});
