import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Priority } from "../../src/protocol/constants.ts";
import { GroupCommit } from "../../src/store/group_commit.ts";
import { MemoryStore } from "../../src/store/memory_store.ts";
import type { StoredJob } from "../../src/store/store.ts";
import { waitFor } from "../_wait.ts";
import { ControlledStore } from "./_store.ts";

interface TestJob extends StoredJob {
  wanted: boolean;
}

function job(seq: number): TestJob {
  return {
    seq,
    handle: `H:g:${seq}`,
    fn: { name: "f" },
    unique: "",
    reducer: "",
    data: new Uint8Array([seq & 255]),
    priority: Priority.NORMAL,
    when: 0,
    retries: 0,
    wanted: true,
  };
}

function setup() {
  const store = new ControlledStore(new MemoryStore());
  const committed: number[] = [];
  const failed: number[] = [];
  let counter = 0;
  const group = new GroupCommit<TestJob>(
    store,
    {
      committed: (jobs) => committed.push(...jobs.map((j) => j.seq)),
      failed: (jobs) => failed.push(...jobs.map((j) => j.seq)),
    },
    () => counter,
    (j) => j.wanted,
  );
  return { store, group, committed, failed, setCounter: (n: number) => (counter = n) };
}

describe("GroupCommit", () => {
  it("insert() of jobs in one turn commits them in one group, after the turn", async () => {
    const { store, group, committed, setCounter } = setup();
    setCounter(3);
    for (const seq of [1, 2, 3]) group.insert(job(seq));
    assert.equal(store.batches.length, 0, "nothing is written before the turn ends");
    await waitFor(() => committed.length === 3, { timeoutMs: 2000 });
    assert.equal(store.batches.length, 1);
    assert.deepEqual(store.batches[0]?.inserts.map((j) => j.seq), [1, 2, 3]);
    assert.equal(store.batches[0]?.counter, 3);
  });

  it("insert() while a commit is in flight goes into the next group, not one per job", async () => {
    const { store, group, committed } = setup();
    store.hold();
    group.insert(job(1));
    await waitFor(() => store.batches.length === 1, { timeoutMs: 2000 });
    for (let seq = 2; seq <= 50; seq++) group.insert(job(seq));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(store.batches.length, 1, "no second group starts while the first is in flight");
    store.release();
    await waitFor(() => committed.length === 50, { timeoutMs: 2000 });
    assert.equal(store.batches.length, 2);
    assert.equal(store.batches[1]?.inserts.length, 49);
  });

  it("a failed group reports its inserts as failed and keeps its deletes and updates for later", async () => {
    const { store, group, committed, failed } = setup();
    store.failing = true;
    const a = job(1);
    group.insert(a);
    group.delete(7);
    group.update(job(8));
    await waitFor(() => failed.length === 1, { timeoutMs: 2000 });
    assert.deepEqual(committed, []);
    store.failing = false;
    group.insert(job(2));
    await waitFor(() => committed.length === 1, { timeoutMs: 2000 });
    assert.deepEqual(committed, [2]);
    const last = store.batches.at(-1)!;
    assert.deepEqual(last.deletes, [7], "the delete is retried with the next group");
    assert.deepEqual(last.updates.map((j) => j.seq), [8]);
  });

  it("a failed group's deletes are retried on their own when no insert comes", async () => {
    const { store, group } = setup();
    store.failing = true;
    group.delete(5);
    await waitFor(() => store.batches.length === 1, { timeoutMs: 2000 });
    store.failing = false;
    await waitFor(() => store.batches.length === 2, { timeoutMs: 4000, what: "a retry" });
    assert.deepEqual(store.batches[1]?.deletes, [5]);
    assert.ok(group.idle);
  });

  it("a job that no longer wants its row when its group starts is left out of it", async () => {
    const { store, group, committed } = setup();
    const a = job(1);
    const b = job(2);
    group.insert(a);
    group.insert(b);
    a.wanted = false;
    group.delete(1);
    await waitFor(() => committed.length === 1, { timeoutMs: 2000 });
    assert.deepEqual(committed, [2]);
    assert.deepEqual(store.batches[0]?.inserts.map((j) => j.seq), [2]);
    assert.deepEqual(store.batches[0]?.deletes, [1]);
  });

  it("flush() resolves once everything queued before it is answered, even while commits fail", async () => {
    const { store, group, failed } = setup();
    group.insert(job(1));
    await group.flush();
    assert.equal(store.batches.length, 1);
    store.failing = true;
    group.insert(job(2));
    group.delete(3);
    await group.flush();
    assert.deepEqual(failed, [2]);
    await group.close();
    const before = store.batches.length;
    group.insert(job(4));
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(store.batches.length, before, "nothing is committed after close()");
  });
});
