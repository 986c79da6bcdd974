import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Fifo } from "../../src/util/fifo.ts";

describe("Fifo", () => {
  it("shift() returns items in push order across growth and wrap-around", () => {
    const q = new Fifo<number>();
    const expected: number[] = [];
    let next = 0;
    // Interleave pushes and shifts so the head wraps while the ring grows.
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < (round % 7) + 3; i++) {
        q.push(next);
        expected.push(next++);
      }
      for (let i = 0; i < (round % 5) + 1 && expected.length > 0; i++) {
        assert.equal(q.shift(), expected.shift());
      }
      assert.equal(q.length, expected.length);
      assert.equal(q.peek(), expected[0]);
      assert.deepEqual([...q], expected);
    }
    while (expected.length > 0) assert.equal(q.shift(), expected.shift());
    assert.equal(q.shift(), undefined);
    assert.equal(q.peek(), undefined);
    assert.equal(q.length, 0);
  });

  it("keeps working after emptying a burst of 100,000 items", () => {
    const q = new Fifo<string>();
    for (let i = 0; i < 100_000; i++) q.push(`j${i}`);
    for (let i = 0; i < 100_000; i++) assert.equal(q.shift(), `j${i}`);
    assert.equal(q.length, 0);
    q.push("after");
    assert.deepEqual([...q], ["after"]);
  });
});
