import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "../../src/client/client.ts";
import { createWorker, type GearmanWorker } from "../../src/worker/worker.ts";
import { createServer, type GearmanServer } from "../../src/server/server.ts";
import { JobExceptionError, JobFailedError, TimeoutError, AbortedError, ConnectionError } from "../../src/errors.ts";
import type { JobEvent } from "../../src/client/foreground_job.ts";

describe("GearmanClient with GearmanWorker", () => {
  let server: GearmanServer;
  let servers: string;
  let worker: GearmanWorker;
  before(async () => {
    server = createServer({ port: 0 });
    const [addr] = await server.listen();
    servers = `127.0.0.1:${addr?.port}`;
    worker = createWorker({ servers, concurrency: 4, exceptions: true })
      .register("reverse", (job) => job.text().split("").reverse().join(""))
      .register("progress", (job) => {
        job.status(1, 3);
        job.data("part");
        job.warning("careful");
        job.status(3, 3);
        return "end";
      })
      .register("fail", () => {
        throw new Error("no such thing");
      })
      .register("bytes", (job) => job.workload.map((b) => 255 - b))
      .register("grüße-ünïcode", (job) => `${job.function}:${job.unique}:${job.text()}`);
    worker.start();
  });
  after(async () => {
    await worker.stop();
    await server.close();
  });

  it("submit() resolves with the worker's result", async () => {
    const client = createClient({ servers });
    assert.equal((await client.submit("reverse", "hello")).text(), "olleh");
    client.close();
  });

  it("submit() yields data, warning and status events before the result", async () => {
    const client = createClient({ servers });
    const job = client.submit("progress", "x");
    const events: JobEvent[] = [];
    for await (const e of job) events.push(e);
    assert.deepEqual(events.map((e) => e.type), ["status", "data", "warning", "status"]);
    assert.deepEqual(events[0], { type: "status", numerator: 1, denominator: 3 });
    assert.equal(await job.text(), "end");
    client.close();
  });

  it("submit() rejects with JobExceptionError when the worker throws and exceptions are on", async () => {
    const client = createClient({ servers, exceptions: true });
    await assert.rejects(() => client.submit("fail", "x"), (err: unknown) =>
      err instanceof JobExceptionError && new TextDecoder().decode(err.data) === "no such thing");
    client.close();
  });

  it("submit() rejects with JobFailedError when the worker throws and exceptions are off", async () => {
    const client = createClient({ servers });
    await assert.rejects(() => client.submit("fail", "x"), JobFailedError);
    client.close();
  });

  it("submit() passes binary payloads both ways", async () => {
    const client = createClient({ servers });
    const data = Uint8Array.from({ length: 256 }, (_, i) => i);
    const result = await client.submit("bytes", data);
    assert.deepEqual(Array.from(result.data), Array.from(data, (b) => 255 - b));
    client.close();
  });

  it("submit() reaches a worker registered under a non-ASCII function name, unique intact", async () => {
    const client = createClient({ servers });
    const result = await client.submit("grüße-ünïcode", "ok", { unique: "ключ" });
    assert.equal(result.text(), "grüße-ünïcode:ключ:ok");
    client.close();
  });

  it("many jobs in flight on one connection all complete", async () => {
    const client = createClient({ servers });
    const words = Array.from({ length: 500 }, (_, i) => `w${i}`);
    const results = await Promise.all(words.map((w) => client.submit("reverse", w, { priority: "low" })));
    assert.deepEqual(results.map((r) => r.text()), words.map((w) => w.split("").reverse().join("")));
    client.close();
  });

  it("submit() rejects with TimeoutError after timeoutMs when no worker takes the job", async () => {
    const client = createClient({ servers });
    await assert.rejects(() => client.submit("nobody", "x", { timeoutMs: 100 }), TimeoutError);
    client.close();
  });

  it("submit() rejects with AbortedError when its signal aborts", async () => {
    const client = createClient({ servers });
    const controller = new AbortController();
    const job = client.submit("nobody", "x", { signal: controller.signal });
    await job.handle;
    controller.abort();
    await assert.rejects(() => job, AbortedError);
    client.close();
  });

  it("submitBackground() and status() report a queued job", async () => {
    const client = createClient({ servers });
    const bg = await client.submitBackground("nobody-bg", "x", { unique: "bg-1" });
    assert.match(bg.handle, /^H:/);
    assert.deepEqual(await client.status(bg), { known: true, running: false, numerator: 0, denominator: 0 });
    assert.deepEqual(await client.statusByUnique("bg-1"), {
      known: true,
      running: false,
      numerator: 0,
      denominator: 0,
      waiting: 0,
    });
    client.close();
  });

  it("echo() returns the bytes sent", async () => {
    const client = createClient({ servers });
    assert.equal(new TextDecoder().decode(await client.echo("ping\0pong")), "ping\0pong");
    client.close();
  });

  it("submit() to a server that is down rejects with a ConnectionError naming it", async () => {
    const dead = createServer({ port: 0 });
    const [addr] = await dead.listen();
    await dead.close();
    const client = createClient({ servers: `127.0.0.1:${addr?.port}` });
    await assert.rejects(() => client.submit("reverse", "x"), (err: unknown) =>
      err instanceof ConnectionError && err.message.includes(`127.0.0.1:${addr?.port}`) &&
      err.code === "ECONNREFUSED");
    client.close();
  });
});
