import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "../../src/client/client.ts";
import { createAdminClient } from "../../src/client/admin_client.ts";
import { createWorker } from "../../src/worker/worker.ts";
import { createServer, type GearmanServer } from "../../src/server/server.ts";
import { createServer as createNetServer, type Socket } from "node:net";

async function serve(port = 0): Promise<[GearmanServer, number]> {
  const server = createServer({ port });
  const [addr] = await server.listen();
  return [server, addr?.port ?? 0];
}

/** Resolves once `fn` has `count` registered workers on the server at `port`. */
async function workersOn(port: number, fn: string, count = 1): Promise<void> {
  const admin = createAdminClient({ server: `127.0.0.1:${port}` });
  try {
    for (let i = 0; i < 500; i++) {
      const status = await admin.status();
      if ((status.find((s) => s.name === fn)?.workers ?? 0) >= count) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no worker for ${fn} on port ${port}`);
  } finally {
    admin.close();
  }
}

describe("GearmanClient and GearmanWorker across server restarts", () => {
  it("a worker re-registers and a client's next submit succeeds after the server restarts", async () => {
    let [server, port] = await serve();
    const servers = `127.0.0.1:${port}`;
    const worker = createWorker({ servers }).register("rs-upper", (job) => job.text().toUpperCase());
    worker.start();
    const client = createClient({ servers });
    try {
      assert.equal((await client.submit("rs-upper", "one")).text(), "ONE");
      await server.close();
      [server, port] = await serve(port);
      await workersOn(port, "rs-upper");
      assert.equal((await client.submit("rs-upper", "two")).text(), "TWO");
    } finally {
      client.close();
      await worker.stop();
      await server.close();
    }
  });

  it("with two servers and one stopped, every submit still succeeds", async () => {
    const [a, portA] = await serve();
    const [b, portB] = await serve();
    const servers = [`127.0.0.1:${portA}`, `127.0.0.1:${portB}`];
    const worker = createWorker({ servers }).register("two-rev", (job) => job.text().split("").reverse().join(""));
    worker.start();
    const client = createClient({ servers });
    try {
      await workersOn(portA, "two-rev");
      await workersOn(portB, "two-rev");
      await a.close();
      for (let i = 0; i < 10; i++) {
        assert.equal((await client.submit("two-rev", `ab${i}`)).text(), `${i}ba`);
        assert.equal((await client.submit("two-rev", `u${i}`, { unique: `key-${i}` })).text(), `${i}u`);
        await client.submitBackground("two-rev", `bg${i}`);
      }
    } finally {
      client.close();
      await worker.stop();
      await b.close();
    }
  });

  it("a worker whose grab is cut off with its server takes the next job from its other server", async () => {
    // A server that takes the worker's first grab, never answers it, then goes away for good.
    let grabbed!: () => void;
    const grabSeen = new Promise<void>((resolve) => (grabbed = resolve));
    const sockets: Socket[] = [];
    const gone = createNetServer((socket) => {
      sockets.push(socket);
      socket.on("data", (chunk) => {
        for (let i = 0; i + 12 <= chunk.length; i += 12 + chunk.readUInt32BE(i + 8)) {
          if (chunk.readUInt32BE(i + 4) === 30) grabbed(); // GRAB_JOB_UNIQ
        }
      });
    });
    await new Promise<void>((resolve) => gone.listen(0, "127.0.0.1", resolve));
    const gonePort = (gone.address() as { port: number }).port;
    const [b, portB] = await serve();
    const worker = createWorker({ servers: [`127.0.0.1:${gonePort}`, `127.0.0.1:${portB}`] })
      .register("cut-rev", (job) => job.text().split("").reverse().join(""));
    worker.start();
    const client = createClient({ servers: `127.0.0.1:${portB}` });
    try {
      await grabSeen;
      const closed = new Promise<void>((resolve) => gone.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      assert.equal((await client.submit("cut-rev", "abc", { timeoutMs: 5000 })).text(), "cba");
    } finally {
      client.close();
      await worker.stop();
      await b.close();
    }
  });

  it("jobs with a unique id go to the same server, so they coalesce across servers", async () => {
    const [a, portA] = await serve();
    const [b, portB] = await serve();
    const client = createClient({ servers: [`127.0.0.1:${portA}`, `127.0.0.1:${portB}`] });
    try {
      const first = await client.submitBackground("hash-fn", "x", { unique: "same-key" });
      const second = await client.submitBackground("hash-fn", "y", { unique: "same-key" });
      assert.deepEqual(second, first);
    } finally {
      client.close();
      await a.close();
      await b.close();
    }
  });
});

describe("GearmanClient bulk submission", () => {
  it("submitBackground() takes 100,000 jobs without the caller pacing it", { timeout: 60000 }, async () => {
    const [server, port] = await serve();
    const client = createClient({ servers: `127.0.0.1:${port}` });
    const admin = createAdminClient({ server: `127.0.0.1:${port}` });
    try {
      const n = 100_000;
      const payload = new Uint8Array(16);
      const submits: Promise<unknown>[] = new Array(n);
      for (let i = 0; i < n; i++) submits[i] = client.submitBackground("bulk", payload);
      await Promise.all(submits);
      const status = await admin.status();
      assert.equal(status.find((s) => s.name === "bulk")?.total, n);
    } finally {
      admin.close();
      client.close();
      await server.close();
    }
  });
});
