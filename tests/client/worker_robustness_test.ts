/**
 * GearmanWorker under misuse and in corners of the protocol: stop() called
 * twice, handlers that return or send something that is not a payload, names
 * with NUL bytes, CANT_DO of a non-ASCII name and a function registered while
 * the worker sleeps (both against our server and a real gearmand), and the
 * concurrency limit with jobs held for a function being unregistered (against
 * two scripted fake servers).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { connect, createServer as createTcpServer, type Socket } from "node:net";
import { createClient, type GearmanClient } from "../../src/client/client.ts";
import { createServer } from "../../src/server/server.ts";
import {
  createWorker,
  type GearmanWorker,
  type JobHandler,
  type WorkerOptions,
} from "../../src/worker/worker.ts";
import { InvalidArgumentError, JobExceptionError, JobFailedError } from "../../src/errors.ts";
import { encodePacket, functionStatus, HOST, waitFor, withTimeout } from "../_helpers.ts";
import {
  errorOf,
  gate,
  resultOf,
  SERVERS,
  TEST_TIMEOUT,
  text,
  useServer,
} from "../e2e/_library.ts";

/** Packet types the fake servers and the proxy deal in (PROTOCOL.md §3). */
const P = {
  CAN_DO: 1,
  PRE_SLEEP: 4,
  NOOP: 6,
  NO_JOB: 10,
  WORK_COMPLETE: 13,
  WORK_FAIL: 14,
  ECHO_REQ: 16,
  ECHO_RES: 17,
  WORK_EXCEPTION: 25,
  GRAB_JOB_UNIQ: 30,
  JOB_ASSIGN_UNIQ: 31,
} as const;

/** Values that are neither a string nor a Uint8Array, by workload name. */
const NOT_PAYLOADS: Record<string, [unknown, string]> = {
  number: [42, "a number"],
  null: [null, "null"],
  object: [{ length: 0 }, "an object"],
  array: [[104, 105], "an Array"],
  arraybuffer: [new ArrayBuffer(4), "an ArrayBuffer"],
};

/**
 * Runs `test` with a started worker on an in-process server and a client
 * that asks for exceptions. Stopping is bounded: a leaked slot would keep it
 * waiting for good.
 */
async function onServer(
  options: Omit<WorkerOptions, "servers">,
  functions: Record<string, JobHandler>,
  test: (worker: GearmanWorker, client: GearmanClient) => Promise<void>,
): Promise<void> {
  const server = createServer({ port: 0 });
  const [addr] = await server.listen();
  const servers = `${HOST}:${addr?.port}`;
  const worker = createWorker({ ...options, servers });
  for (const [fn, handler] of Object.entries(functions)) worker.register(fn, handler);
  worker.start();
  const client = createClient({ servers, exceptions: true });
  try {
    await test(worker, client);
  } finally {
    client.close();
    await withTimeout(worker.stop(), 2000, "the worker to stop").catch(() => {});
    await server.close();
  }
}

describe("GearmanWorker", { timeout: 60_000 }, () => {
  it("stop() resolves every call when it is called twice while a job runs", {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const slow = gate();
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    await onServer({}, {
      "wr.slow": async () => {
        started();
        await slow.wait();
        return "done";
      },
    }, async (worker, client) => {
      const job = client.submit("wr.slow", "");
      await running;
      const first = worker.stop();
      const second = worker.stop();
      slow.open();
      assert.equal(await resultOf(job), "done");
      await withTimeout(Promise.all([first, second]), 2000, "both stop() calls to resolve");
    });
  });

  it("fails a job whose handler returns or resolves with a non-payload, and frees its slot", {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const bad: JobHandler = (job) => {
      const [name = "", mode] = job.text().split(":");
      const value = NOT_PAYLOADS[name]?.[0];
      return (mode === "async" ? Promise.resolve(value) : value) as never;
    };
    await onServer(
      { exceptions: true },
      { "wr.bad": bad, "wr.ok": () => "ok" },
      async (worker, client) => {
        for (const [name, [, kind]] of Object.entries(NOT_PAYLOADS)) {
          for (const mode of ["sync", "async"]) {
            const err = await errorOf(client.submit("wr.bad", `${name}:${mode}`), 2000);
            assert.ok(err instanceof JobExceptionError, `${name} ${mode}: ${err}`);
            assert.equal(text(err.data), `handler returned ${kind}, not a string or Uint8Array`);
          }
        }
        assert.equal(worker.active, 0);
        assert.equal(await resultOf(client.submit("wr.ok", ""), 2000), "ok");
      },
    );
  });

  it("answers a non-payload result with WORK_FAIL when exceptions are off", {
    timeout: TEST_TIMEOUT,
  }, async () => {
    await onServer({}, { "wr.number": () => 42 as never }, async (_worker, client) => {
      assert.ok(await errorOf(client.submit("wr.number", ""), 2000) instanceof JobFailedError);
    });
  });

  it("fails a job whose handler throws a value that has no string form, and frees its slot", {
    timeout: TEST_TIMEOUT,
  }, async () => {
    await onServer({ exceptions: true }, {
      "wr.throw": () => {
        throw Object.create(null);
      },
      "wr.ok": () => "ok",
    }, async (worker, client) => {
      const err = await errorOf(client.submit("wr.throw", ""), 2000);
      assert.ok(err instanceof JobExceptionError);
      assert.equal(text(err.data), "handler threw a value that cannot be converted to a string");
      assert.equal(worker.active, 0);
      assert.equal(await resultOf(client.submit("wr.ok", ""), 2000), "ok");
    });
  });

  it("answers once and frees one slot when a handler's thenable calls back twice", {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const twice = () => ({
      then(ok: (v: string) => void) {
        ok("first");
        ok("second");
      },
    });
    await onServer({}, { "wr.twice": twice as never }, async (worker, client) => {
      assert.equal(await resultOf(client.submit("wr.twice", ""), 2000), "first");
      assert.equal(worker.active, 0);
    });
  });

  it("job.data() and job.warning() throw InvalidArgumentError in the handler for a non-payload", {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const send: JobHandler = (job) => {
      const [method = "", name = ""] = job.text().split(":");
      try {
        (job as unknown as Record<string, (v: unknown) => void>)[method]?.(NOT_PAYLOADS[name]?.[0]);
      } catch (err) {
        return err instanceof InvalidArgumentError ? err.message : `other error: ${err}`;
      }
      return "sent";
    };
    const sendLater: JobHandler = async (job) => {
      await Promise.resolve();
      job.data(42 as never);
      return "sent";
    };
    await onServer(
      { exceptions: true },
      { "wr.send": send, "wr.send.async": sendLater },
      async (worker, client) => {
        for (const [name, [, kind]] of Object.entries(NOT_PAYLOADS)) {
          for (const method of ["data", "warning"]) {
            assert.equal(
              await resultOf(client.submit("wr.send", `${method}:${name}`), 2000),
              `job.${method}() got ${kind}, not a string or Uint8Array`,
            );
          }
        }
        // Not caught, it fails the job like any other throw.
        const err = await errorOf(client.submit("wr.send.async", ""), 2000);
        assert.ok(err instanceof JobExceptionError);
        assert.equal(text(err.data), "job.data() got a number, not a string or Uint8Array");
        assert.equal(worker.active, 0);
      },
    );
  });

  it("register(), unregister() and the clientId option throw InvalidArgumentError for a NUL byte", () => {
    assert.throws(
      () => createWorker({ servers: `${HOST}:1`, clientId: "id\0x" }),
      InvalidArgumentError,
    );
    const worker = createWorker({ servers: `${HOST}:1` });
    assert.throws(() => worker.register("fn\0x", () => ""), InvalidArgumentError);
    assert.throws(() => worker.unregister("fn\0x"), InvalidArgumentError);
  });
});

for (const { kind, start, skip } of SERVERS) {
  describe(`GearmanWorker on ${kind}`, { skip, timeout: 60_000 }, () => {
    const fx = useServer(start);

    it("unregister() withdraws a function with a non-ASCII name from the server", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const fn = "wr.café-ü";
      // Our raw admin reader shows each byte as one char.
      const listed = Buffer.from(fn, "utf8").toString("latin1");
      const workers = async () => (await functionStatus(fx.target().port, listed))?.workers ?? 0;
      const worker = fx.worker().register(fn, () => "x").register("wr.kept", () => "y");
      worker.start();
      await waitFor(async () => (await workers()) === 1, { what: `a worker for ${fn}` });
      worker.unregister(fn);
      await waitFor(async () => (await workers()) === 0, {
        timeoutMs: 3000,
        what: `${fn} to have no worker`,
      });
    });

    it("register() after start() takes a queued job of the new function while the worker sleeps", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const job = fx.client().submit("wr.late", "x");
      await job.handle;
      const tap = await proxy(fx.target().port);
      fx.defer(() => tap.close());
      const worker = createWorker({ servers: `${HOST}:${tap.port}` });
      fx.defer(() => worker.stop());
      worker.register("wr.early", () => "early").start();
      // It grabbed, got NO_JOB and went to sleep.
      await tap.events.until(() => tap.sent(P.PRE_SLEEP) > 0, "the worker's PRE_SLEEP");
      worker.register("wr.late", (j) => `late:${j.text()}`);
      assert.equal(await resultOf(job, 3000), "late:x");
    });
  });
}

describe(
  "GearmanWorker with jobs held for a function being unregistered",
  { timeout: 60_000 },
  () => {
    it("takes no more jobs than `concurrency` counting the held ones, with two servers awake", {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const events = new Events();
      const a = await fakeServer(events);
      const b = await fakeServer(events);
      const started = new Set<string>();
      // Each job runs until released by name, or all at once at the end.
      const release = new Map<string, () => void>();
      const end = Promise.withResolvers<void>();
      const handler: JobHandler = async (job) => {
        const mine = Promise.withResolvers<void>();
        release.set(job.text(), mine.resolve);
        started.add(job.text());
        events.poke();
        await Promise.race([mine.promise, end.promise]);
        return "ok";
      };
      const worker = createWorker({
        servers: [`${HOST}:${a.port}`, `${HOST}:${b.port}`],
        concurrency: 4,
      })
        .register("s", handler)
        .register("o", handler);
      try {
        a.script.push(assign("s", "s1"));
        worker.start();
        await events.until(
          () => started.has("s1") && a.sent(P.PRE_SLEEP) > 0 && b.sent(P.PRE_SLEEP) > 0,
          "s1 to run and both servers to see the worker asleep",
        );
        // s1 runs on; s is dropped, so a job of s assigned now is held.
        worker.unregister("s");
        const grabsOnB = b.sent(P.GRAB_JOB_UNIQ);
        b.script.push(null, null, "hold");
        b.noop();
        await events.until(() => b.sent(P.GRAB_JOB_UNIQ) === grabsOnB + 3, "3 grabs on B");
        a.script.push(assign("s", "s2"), assign("o", "o1"));
        a.noop();
        await events.until(() => started.has("o1"), "o1 to run");
        b.answer(assign("o", "o2"));
        await events.until(() => started.has("o2"), "o2 to run");
        // Running s1, o1, o2 and holding s2: all 4 slots are taken, and both
        // servers were last heard assigning a job, so both may have work.
        a.script.push(assign("o", "o3"));
        b.script.push(assign("o", "o4"));
        release.get("o1")?.();
        await events.until(() => a.answered.has("o1"), "o1's WORK_COMPLETE");
        // A CAN_DO on both links follows any grab the worker sent for the slot o1 freed.
        worker.register("fence", handler);
        await events.until(
          () => a.canDo.includes("fence") && b.canDo.includes("fence"),
          "the fence CAN_DO",
        );
        const taken = [...a.open, ...b.open].sort();
        assert.equal(taken.length, 4, `jobs assigned and not answered: ${taken.join(", ")}`);
      } finally {
        end.resolve();
        await withTimeout(worker.stop(), 2000, "the worker to stop").catch(() => {});
        await a.close();
        await b.close();
      }
    });
  },
);

/** Wakes whoever waits for a condition on the fake servers' or proxy's state. */
class Events {
  #waiters: (() => void)[] = [];

  poke(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves once `cond()` holds, checked after each poke; rejects after `ms`. */
  until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
    return withTimeout(
      (async () => {
        while (!cond()) await new Promise<void>((wake) => this.#waiters.push(wake));
      })(),
      ms,
      what,
    );
  }
}

/** Splits a stream of binary packets; calls `onPacket` with each packet's type and args. */
function packetReader(onPacket: (type: number, args: Buffer[]) => void): (chunk: Buffer) => void {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 12 && buf.length >= 12 + buf.readUInt32BE(8)) {
      const type = buf.readUInt32BE(4);
      const body = buf.subarray(12, 12 + buf.readUInt32BE(8));
      buf = buf.subarray(12 + body.length);
      const args: Buffer[] = [];
      for (let at = 0; body.length > 0 && at <= body.length;) {
        const nul = body.indexOf(0, at);
        const end = nul < 0 ? body.length : nul;
        args.push(body.subarray(at, end));
        at = end + 1;
      }
      onPacket(type, args);
    }
  };
}

/** Counts per packet type, for what a peer sent. */
function counter(): { count(type: number): void; sent(type: number): number } {
  const counts = new Map<number, number>();
  return {
    count: (type) => void counts.set(type, (counts.get(type) ?? 0) + 1),
    sent: (type) => counts.get(type) ?? 0,
  };
}

/** A TCP proxy to `port` that counts the packets its clients send. */
async function proxy(port: number) {
  const events = new Events();
  const { count, sent } = counter();
  const sockets = new Set<Socket>();
  const server = createTcpServer((down) => {
    const up = connect({ host: HOST, port });
    for (const s of [down, up]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => {
        sockets.delete(s);
        down.destroy();
        up.destroy();
      });
    }
    const read = packetReader((type) => {
      count(type);
      events.poke();
    });
    down.on("data", (chunk: Buffer) => {
      up.write(chunk);
      read(chunk);
    });
    up.on("data", (chunk: Buffer) => void down.write(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  return {
    port: (server.address() as { port: number }).port,
    events,
    sent,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A JOB_ASSIGN_UNIQ for a fake server to send: its handle is the workload. */
function assign(fn: string, workload: string): Buffer[] {
  return [Buffer.from(workload), Buffer.from(fn), Buffer.alloc(0), Buffer.from(workload)];
}

/**
 * A fake job server for one worker connection. Grabs are answered from
 * `script` (a job, null for NO_JOB, or "hold" to leave it for
 * {@link answer}), and with NO_JOB once it is empty. `open` holds the jobs
 * assigned and not yet answered.
 */
async function fakeServer(events: Events) {
  const { count, sent } = counter();
  let sock: Socket | undefined;
  const fake = {
    port: 0,
    sent,
    script: [] as (Buffer[] | null | "hold")[],
    canDo: [] as string[],
    open: new Set<string>(),
    answered: new Set<string>(),
    noop: () => sock?.write(encodePacket(P.NOOP, [], "RES")),
    /** Answers the oldest grab the script held. */
    answer: (job: Buffer[] | null) => reply(job),
    close: () =>
      new Promise<void>((resolve) => {
        sock?.destroy();
        server.close(() => resolve());
      }),
  };
  const reply = (job: Buffer[] | null) => {
    if (job === null) return void sock?.write(encodePacket(P.NO_JOB, [], "RES"));
    fake.open.add(job[0]?.toString() ?? "");
    sock?.write(encodePacket(P.JOB_ASSIGN_UNIQ, job, "RES"));
  };
  const onPacket = (type: number, args: Buffer[]) => {
    count(type);
    const first = args[0]?.toString() ?? "";
    if (type === P.ECHO_REQ) sock?.write(encodePacket(P.ECHO_RES, args, "RES"));
    if (type === P.CAN_DO) fake.canDo.push(first);
    if (type === P.WORK_COMPLETE || type === P.WORK_FAIL || type === P.WORK_EXCEPTION) {
      fake.open.delete(first);
      fake.answered.add(first);
    }
    if (type === P.GRAB_JOB_UNIQ) {
      const next = fake.script.shift() ?? null;
      if (next !== "hold") reply(next);
    }
    events.poke();
  };
  const server = createTcpServer((s) => {
    sock = s;
    s.on("error", () => {});
    s.on("data", packetReader(onPacket));
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  fake.port = (server.address() as { port: number }).port;
  return fake;
}
