import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "../../src/client/client.ts";
import { createWorker } from "../../src/worker/worker.ts";
import { ConnectionError, InvalidArgumentError } from "../../src/errors.ts";
import type { Conn, Net } from "../../src/net/net.ts";
import { delay, withTimeout } from "../_wait.ts";
import { startServer, type TestServer } from "../server/_server.ts";

/** A latch a handler waits on. */
function gate(): { open(): void; wait: Promise<void> } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { open, wait };
}

describe("GearmanClient and GearmanWorker closing, and bad names", () => {
  let s: TestServer;
  let servers: string;
  before(async () => {
    s = await startServer();
    servers = `127.0.0.1:${s.port}`;
  });
  after(() => s.stop());

  it("close() fails a foreground job the server has created, and ends its event loop", {
    timeout: 15_000,
  }, async () => {
    const started = gate();
    const finish = gate();
    const worker = createWorker({ servers }).register("lc.hang", async () => {
      started.open();
      await finish.wait;
      return "late";
    });
    worker.start();
    const client = createClient({ servers });
    const job = client.submit("lc.hang", "x");
    const loop = (async () => {
      for await (const _ of job) { /* no events */ }
    })();
    await job.handle;
    await started.wait;
    client.close();
    const closed = (err: unknown) => err instanceof ConnectionError && err.code === "CLOSED";
    await assert.rejects(withTimeout(Promise.resolve(job), 2000, "the job to fail"), closed);
    await assert.rejects(withTimeout(loop, 2000, "the event loop to end"), closed);
    finish.open();
    await worker.stop();
  });

  it("two event loops over one job both end when it completes", { timeout: 15_000 }, async () => {
    const worker = createWorker({ servers }).register("lc.two", (job) => {
      job.data("d");
      return "done";
    });
    worker.start();
    const client = createClient({ servers });
    const job = client.submit("lc.two", "x");
    const drain = async () => {
      const seen: string[] = [];
      for await (const e of job) seen.push(e.type);
      return seen;
    };
    const [a, b] = await withTimeout(Promise.all([drain(), drain()]), 2000, "both loops to end");
    assert.deepEqual([...a, ...b], ["data"]);
    assert.equal(await job.text(), "done");
    client.close();
    await worker.stop();
  });

  it("a NUL in a function name or unique id is refused instead of shifting the packet", {
    timeout: 15_000,
  }, async () => {
    const client = createClient({ servers });
    const bad = (err: unknown) => err instanceof InvalidArgumentError;
    await assert.rejects(Promise.resolve(client.submit("a\0b", "x")), bad);
    await assert.rejects(Promise.resolve(client.submit("f", "x", { unique: "u\0x" })), bad);
    await assert.rejects(client.submitBackground("f", "x", { unique: "u\0x" }), bad);
    await assert.rejects(client.statusByUnique("u\0x"), bad);
    client.close();
  });

  it("close() during the backoff after a failed connect makes no further attempt", {
    timeout: 15_000,
  }, async () => {
    let attempts = 0;
    const refusing: Net = {
      runtime: "node",
      listen: () => Promise.reject(new Error("not used")),
      connect: (): Promise<Conn> => {
        attempts++;
        return Promise.reject(new ConnectionError("connection refused", { code: "ECONNREFUSED" }));
      },
    };
    const client = createClient({ servers: "127.0.0.1:1", net: refusing });
    await assert.rejects(client.echo("x"), ConnectionError);
    const second = client.echo("x"); // waits out the backoff (75-125 ms) before connecting
    client.close();
    await assert.rejects(
      second,
      (err: unknown) => err instanceof ConnectionError && err.code === "CLOSED",
    );
    // Past the backoff: a cancelled wait makes no second connect.
    await delay(300);
    assert.equal(attempts, 1);
  });
  it(
    "worker.stop() still delivers a result queued behind back-pressure, and the job does not run again",
    { timeout: 15_000 },
    async () => {
      const big = new Uint8Array(8 * 1024 * 1024).fill(97);
      const started = gate();
      const finish = gate();
      let runs = 0;
      const worker = createWorker({ servers }).register("lc.big", async (job) => {
        runs++;
        started.open();
        await finish.wait;
        job.data(big); // more than the socket takes at once: the link waits for drain
        return "done";
      });
      worker.start();
      const client = createClient({ servers });
      const job = client.submit("lc.big", "x");
      let dataBytes = 0;
      const loop = (async () => {
        for await (const e of job) if (e.type === "data") dataBytes += e.data.length;
      })();
      await started.wait;
      const stopped = worker.stop(); // graceful: the running job's answer goes out
      finish.open();
      await withTimeout(stopped, 5000, "stop()");
      assert.equal(await withTimeout(job.text(), 5000, "the result"), "done");
      await loop;
      assert.equal(dataBytes, big.length);
      assert.equal(runs, 1);
      client.close();
    },
  );
});
