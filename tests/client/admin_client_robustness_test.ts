/**
 * `AdminClient` when answers come late, in pieces, in an unexpected shape,
 * after the server dropped the connection, or with names that are not plain
 * ASCII. Against our server where it can show the case, and against a fake
 * server on 127.0.0.1 that answers exactly as a test needs where it cannot.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer as createNetServer, type Socket } from "node:net";
import { type AdminClient, createAdminClient } from "../../src/client/admin_client.ts";
import { createClient, type GearmanClient } from "../../src/client/client.ts";
import { ConnectionError, InvalidArgumentError, ProtocolError } from "../../src/errors.ts";
import { defaultNet } from "../../src/net/default_net.ts";
import type { Net } from "../../src/net/net.ts";
import { createServer, type GearmanServer } from "../../src/server/server.ts";
import { VERSION } from "../../src/version.ts";
import { createWorker } from "../../src/worker/worker.ts";
import { waitFor } from "../_helpers.ts";

const TIMEOUT = { timeout: 15_000 };

/** Our server on 127.0.0.1; `port` 0 picks a free one. */
async function serve(port = 0): Promise<{ server: GearmanServer; port: number }> {
  const server = createServer({ listen: ["127.0.0.1"], port });
  const [addr] = await server.listen();
  return { server, port: addr?.port ?? 0 };
}

/** Runs `body` with a fresh server of ours, a client and an admin client of it, closing all three after. */
async function onOurServer(
  body: (s: { servers: string; client: GearmanClient; admin: AdminClient }) => Promise<void>,
  adminOptions: { net?: Net } = {},
): Promise<void> {
  const { server, port } = await serve();
  const servers = `127.0.0.1:${port}`;
  const client = createClient({ servers });
  const admin = createAdminClient({ ...adminOptions, server: servers });
  try {
    await body({ servers, client, admin });
  } finally {
    admin.close();
    client.close();
    await server.close();
  }
}

/** A fake admin server: `onLine` gets each command line (UTF-8, without its line end). */
async function fakeServer(onLine: (socket: Socket, line: string) => void) {
  const sockets: Socket[] = [];
  const server = createNetServer((socket) => {
    sockets.push(socket);
    socket.on("error", () => {}); // the client may drop its end at any time
    let pending = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      for (let nl = pending.indexOf(10); nl >= 0; nl = pending.indexOf(10)) {
        const line = pending.subarray(0, nl).toString("utf8").replace(/\r$/, "");
        pending = pending.subarray(nl + 1);
        onLine(socket, line);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    server: `127.0.0.1:${port}`,
    /** Connections accepted so far. */
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The runtime's Net, but every read is handed over one byte at a time. */
async function bytePerRead(): Promise<Net> {
  const net = await defaultNet();
  return {
    runtime: net.runtime,
    listen: (addr, handlers) => net.listen(addr, handlers),
    connect: (addr, handlers, opts) =>
      net.connect(addr, {
        ...handlers,
        onData: (conn, chunk) => {
          for (let i = 0; i < chunk.length; i++) handlers.onData(conn, chunk.slice(i, i + 1));
        },
      }, opts),
  };
}

async function using<T>(admin: AdminClient, run: (a: AdminClient) => Promise<T>): Promise<T> {
  try {
    return await run(admin);
  } finally {
    admin.close();
  }
}

describe("AdminClient after a timeout or an answer of the wrong shape", () => {
  it(
    "command() does not take an answer that came after its timeout for the next command's",
    TIMEOUT,
    async () => {
      let slow: Socket | undefined;
      const fake = await fakeServer((socket, line) => {
        if (line === "getpid") slow = socket; // answered by the test, too late
        else if (line === "version") socket.write("OK 1.1.20\n");
        else if (line === "status") socket.write("fn\t1\t0\t1\n.\n");
      });
      try {
        await using(createAdminClient({ server: fake.server, timeoutMs: 200 }), async (admin) => {
          await assert.rejects(
            admin.getPid(),
            (e: unknown) => e instanceof ConnectionError && e.code === "TIMEOUT",
          );
          slow?.write("OK 4242\n");
          assert.equal(await admin.version(), "1.1.20");
          assert.deepEqual(await admin.status(), [{
            name: "fn",
            total: 1,
            running: 0,
            workers: 1,
          }]);
        });
      } finally {
        await fake.close();
      }
    },
  );

  it(
    "command() rejects with ProtocolError when answered with a listing, and the next command gets its own answer",
    TIMEOUT,
    async () => {
      await onOurServer(async ({ admin }) => {
        await admin.createFunction("listed-1");
        await admin.createFunction("listed-2");
        await assert.rejects(admin.command("status"), ProtocolError);
        assert.equal(await admin.version(), VERSION);
        assert.deepEqual((await admin.status()).map((s) => s.name).sort(), [
          "listed-1",
          "listed-2",
        ]);
      });
    },
  );

  it(
    "command() leaves no rows behind for the next command when a listing's first row begins with OK",
    TIMEOUT,
    async () => {
      await onOurServer(async ({ client, admin }) => {
        await client.submitBackground("OK go", "x");
        // The first row reads as an OK answer; the rest of the listing must not be the next one.
        assert.equal(await admin.command("status"), "go\t1\t0\t0");
        assert.equal(await admin.version(), VERSION);
      });
    },
  );
});

describe("AdminClient and line breaks in a command", () => {
  it(
    "cancelJob() with a CR LF in the handle is refused, so no second command is sent",
    TIMEOUT,
    async () => {
      await onOurServer(async ({ admin }) => {
        await assert.rejects(admin.cancelJob("H:x:1\r\nshutdown"), InvalidArgumentError);
        await assert.rejects(admin.command("version\nstatus"), InvalidArgumentError);
        assert.equal(await admin.version(), VERSION);
      });
    },
  );
});

describe("AdminClient when the connection ends", () => {
  it("version() connects again after the server restarted on the same port", TIMEOUT, async () => {
    let { server, port } = await serve();
    try {
      await using(createAdminClient({ server: `127.0.0.1:${port}` }), async (admin) => {
        assert.equal(await admin.version(), VERSION);
        await server.close();
        ({ server } = await serve(port));
        // The command sent before the client saw the close may fail; a later one must not.
        await waitFor(() => admin.version().then((v) => v === VERSION), {
          what: "version() after the restart",
        });
        assert.equal(await admin.version(), VERSION);
      });
    } finally {
      await server.close();
    }
  });

  it(
    "version() connects again after shutdown() stopped the server and it was started again",
    TIMEOUT,
    async () => {
      let { server, port } = await serve();
      try {
        await using(createAdminClient({ server: `127.0.0.1:${port}` }), async (admin) => {
          await admin.shutdown();
          await server.close();
          ({ server } = await serve(port));
          await waitFor(() => admin.version().then((v) => v === VERSION), {
            what: "version() after the restart",
          });
        });
      } finally {
        await server.close();
      }
    },
  );

  it("commands reject with CLOSED after close(), without connecting again", TIMEOUT, async () => {
    const fake = await fakeServer((socket, line) => {
      if (line === "version") socket.write("OK 1.1.20\n");
    });
    try {
      const admin = createAdminClient({ server: fake.server, timeoutMs: 1000 });
      assert.equal(await admin.version(), "1.1.20");
      admin.close();
      await assert.rejects(
        admin.version(),
        (e: unknown) => e instanceof ConnectionError && e.code === "CLOSED",
      );
      assert.equal(fake.sockets.length, 1);
    } finally {
      await fake.close();
    }
  });
});

describe("AdminClient with names that are not ASCII", () => {
  it(
    "status(), workers(), createFunction() and dropFunction() use UTF-8 names",
    TIMEOUT,
    async () => {
      await onOurServer(async ({ servers, admin }) => {
        const worker = createWorker({ servers, clientId: "wörker" }).register("café", () => "x");
        worker.start();
        try {
          await waitFor(async () => (await admin.status()).some((s) => s.workers > 0), {
            what: "the worker",
          });
          assert.deepEqual(await admin.status(), [{
            name: "café",
            total: 0,
            running: 0,
            workers: 1,
          }]);
          const mine = (await admin.workers()).filter((w) => w.functions.length > 0);
          assert.deepEqual(mine.map((w) => [w.clientId, w.functions]), [["wörker", ["café"]]]);
          await admin.createFunction("日本");
          assert.deepEqual((await admin.status()).map((s) => s.name).sort(), ["café", "日本"]);
          await admin.dropFunction("日本");
          assert.deepEqual((await admin.status()).map((s) => s.name), ["café"]);
        } finally {
          await worker.stop();
        }
      });
    },
  );

  it("status() decodes a name whose characters arrive split across reads", TIMEOUT, async () => {
    await onOurServer(async ({ admin }) => {
      await admin.createFunction("größe-日本-🙂");
      assert.deepEqual(await admin.status(), [{
        name: "größe-日本-🙂",
        total: 0,
        running: 0,
        workers: 0,
      }]);
    }, { net: await bytePerRead() });
  });
});

describe("AdminClient listings", () => {
  it("status() and priorityStatus() keep a tab in a function name", TIMEOUT, async () => {
    await onOurServer(async ({ client, admin }) => {
      await client.submitBackground("a\tb", "x", { priority: "low" });
      assert.deepEqual(await admin.status(), [{
        name: "a\tb",
        total: 1,
        running: 0,
        workers: 0,
      }]);
      assert.deepEqual(await admin.priorityStatus(), [{
        name: "a\tb",
        high: 0,
        normal: 0,
        low: 1,
        workers: 0,
      }]);
    });
  });

  it(
    "showUniqueJobs() leaves nothing behind for the next command when a unique id is '.'",
    TIMEOUT,
    async () => {
      await onOurServer(async ({ client, admin }) => {
        await client.submitBackground("q", "1", { unique: "." });
        await client.submitBackground("q", "2", { unique: "after-dot" });
        // gearmand's format cannot tell that row from the end: the list stops there.
        const uniques = await admin.showUniqueJobs();
        assert.ok(uniques.every((u) => u === "." || u === "after-dot"), JSON.stringify(uniques));
        assert.equal(await admin.version(), VERSION);
        assert.deepEqual(await admin.status(), [{ name: "q", total: 2, running: 0, workers: 0 }]);
      });
    },
  );

  it(
    "showUniqueJobs() rows that arrive after the next command was sent are not its answer",
    TIMEOUT,
    async () => {
      const late = new Set<Socket>();
      const fake = await fakeServer((socket, line) => {
        if (line === "show unique jobs") {
          socket.write("a\n.\n"); // a unique id "."; the rest comes later
          late.add(socket);
        } else if (line === "version") {
          if (late.delete(socket)) socket.write("b\n.\n");
          socket.write("OK 1.1.20\n");
        }
      });
      try {
        await using(createAdminClient({ server: fake.server, timeoutMs: 1000 }), async (admin) => {
          assert.deepEqual(await admin.showUniqueJobs(), ["a"]);
          assert.equal(await admin.version(), "1.1.20");
        });
      } finally {
        await fake.close();
      }
    },
  );
});
