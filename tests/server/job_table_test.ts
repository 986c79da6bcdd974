import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { JobTable } from "../../src/server/job_table.ts";
import type { Job } from "../../src/server/job.ts";

const job = (seq: number) => ({ seq }) as unknown as Job;

/** A small deterministic PRNG, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("JobTable", () => {
  it("get(), add() and delete() agree with a Map under random FIFO-ish and random churn", () => {
    for (const seed of [1, 2, 3, 4]) {
      const rnd = random(seed);
      const table = new JobTable();
      const model = new Map<number, Job>();
      let next = seed === 4 ? 2 ** 31 - 500 : 1; // also across the int32 boundary
      for (let step = 0; step < 20000; step++) {
        const r = rnd();
        if (r < 0.55 || model.size === 0) {
          const j = job(next++);
          table.add(j);
          model.set(j.seq, j);
        } else {
          // Mostly the oldest job ends, sometimes any other.
          const keys = [...model.keys()];
          const seq = rnd() < 0.7 ? keys[0]! : keys[Math.floor(rnd() * keys.length)]!;
          assert.equal(table.delete(model.get(seq)!), true);
          model.delete(seq);
        }
        if (step % 97 === 0) {
          for (const [seq, j] of model) assert.equal(table.get(seq), j);
          assert.equal(table.get(next), undefined);
          assert.equal(table.get(next - 100000), undefined);
        }
        assert.equal(table.size, model.size);
      }
      assert.deepEqual(table.values().map((j) => j.seq), [...model.keys()].sort((a, b) => a - b));
    }
  });

  it("delete() refuses a job whose seq is held by another job", () => {
    const table = new JobTable();
    const a = job(5);
    table.add(a);
    assert.equal(table.delete(job(5)), false);
    assert.equal(table.get(5), a);
    assert.equal(table.delete(a), true);
    assert.equal(table.get(5), undefined);
  });

  it("keeps an old job findable while a long stream of newer ones passes", () => {
    const table = new JobTable();
    const old = job(1);
    table.add(old);
    for (let seq = 2; seq < 50000; seq++) {
      const j = job(seq);
      table.add(j);
      if (seq > 10) assert.equal(table.delete(table.get(seq - 8)!), true);
    }
    assert.equal(table.get(1), old);
    assert.equal(table.size, 10); // 1, 2 and the last eight
  });
});
