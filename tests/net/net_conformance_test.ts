// One contract suite for every Net adapter. Run under each runtime it covers
// that runtime's default adapter (NodeNet on Node and Deno, BunNet on Bun),
// plus NodeNet under Bun and DenoNet under Deno.

import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as nodeNet from "node:net";
import { ConnectionError } from "../../src/errors.ts";
import { defaultNet } from "../../src/net/default_net.ts";
import { NodeNet } from "../../src/net/node_net.ts";
import { detectRuntime } from "../../src/net/runtime.ts";
import type { DenoApi } from "../../src/net/deno_types.d.ts";
import type { Conn, ConnHandlers, Listener, Net } from "../../src/net/net.ts";

const HOST = "127.0.0.1";
const MiB = 1024 * 1024;
const runtime = detectRuntime();

interface RecorderOptions {
  /** Write every chunk back. */
  echo?: boolean;
  /** Keep every chunk, to compare once all has arrived. */
  keep?: boolean;
  onData?: (conn: Conn, chunk: Uint8Array) => void;
}

/** Records every callback; tests await conditions on it instead of sleeping. */
class Recorder implements ConnHandlers {
  readonly opens: Conn[] = [];
  readonly chunks = new Map<Conn, Uint8Array[]>();
  readonly received = new Map<Conn, number>();
  readonly closes = new Map<Conn, Array<Error | undefined>>();
  readonly opts: RecorderOptions;
  /** onData calls for a Conn that onOpen had not announced (listeners only). */
  unannounced = 0;
  drains = 0;
  #wakers: Array<() => void> = [];

  constructor(opts: RecorderOptions = {}) {
    this.opts = opts;
  }
  onOpen(conn: Conn): void {
    this.opens.push(conn);
    this.#wake();
  }
  onData(conn: Conn, chunk: Uint8Array): void {
    if (!this.opens.includes(conn)) this.unannounced++;
    this.received.set(conn, this.bytes(conn) + chunk.byteLength);
    if (this.opts.keep) this.chunks.set(conn, [...(this.chunks.get(conn) ?? []), chunk]);
    this.opts.onData?.(conn, chunk);
    if (this.opts.echo) conn.write(chunk);
    this.#wake();
  }
  onDrain(): void {
    this.drains++;
    this.#wake();
  }
  onClose(conn: Conn, err?: Error): void {
    this.closes.set(conn, [...(this.closes.get(conn) ?? []), err]);
    this.#wake();
  }
  bytes(conn: Conn): number {
    return this.received.get(conn) ?? 0;
  }
  closeCount(conn: Conn): number {
    return this.closes.get(conn)?.length ?? 0;
  }
  async until(done: () => boolean): Promise<void> {
    while (!done()) await new Promise<void>((resolve) => this.#wakers.push(resolve));
  }
  #wake(): void {
    for (const wake of this.#wakers.splice(0)) wake();
  }
}

function randomBytes(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) crypto.getRandomValues(out.subarray(at, at + 65536));
  return out;
}

/** Asserts that `chunks`, in order, hold exactly `expected`. */
function assertBytes(chunks: readonly Uint8Array[] | undefined, expected: Uint8Array): void {
  let at = 0;
  for (const chunk of chunks ?? []) {
    for (let i = 0; i < chunk.byteLength; i++) {
      if (chunk[i] !== expected[at + i]) assert.fail(`byte ${at + i} differs`);
    }
    at += chunk.byteLength;
  }
  assert.equal(at, expected.byteLength);
}

/** No event can signal that something did NOT happen: give it a few turns. */
const quiet = () => new Promise((resolve) => setTimeout(resolve, 30));
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** `it()` with a timeout, and a skip reason when the test cannot run here. */
function spec(name: string, timeout: number, fn: () => Promise<void>, skip?: string): void {
  it(name, skip === undefined ? { timeout } : { timeout, skip }, fn);
}

function contract(net: Net): void {
  const listeners: Listener[] = [];
  const conns: Conn[] = [];
  const serve = async (rec: Recorder) => {
    const listener = await net.listen({ hostname: HOST, port: 0 }, rec);
    listeners.push(listener);
    return listener;
  };
  const dial = async (listener: Listener, rec: Recorder) => {
    const conn = await net.connect(listener.addr, rec, { timeoutMs: 5000 });
    conns.push(conn);
    return conn;
  };
  afterEach(async () => {
    for (const conn of conns.splice(0)) conn.destroy();
    for (const listener of listeners.splice(0)) await listener.close();
  });

  spec("listen() binds a real port for port 0 and refuses a taken one", 5000, async () => {
    const [a, b] = [await serve(new Recorder()), await serve(new Recorder())];
    assert.equal(a.addr.hostname, HOST);
    assert.ok(a.addr.port > 0 && b.addr.port > 0);
    assert.notEqual(a.addr.port, b.addr.port);
    await assert.rejects(net.listen(a.addr, new Recorder()), (err: unknown) => {
      assert.ok(err instanceof ConnectionError, `got ${String(err)}`);
      return err.code === "EADDRINUSE";
    });
  });

  spec("connect() and write() round-trip bytes through an echo server", 5000, async () => {
    const [server, client] = [new Recorder({ echo: true }), new Recorder({ keep: true })];
    const listener = await serve(server);
    const conn = await dial(listener, client);
    assert.deepEqual(conn.remote, listener.addr);
    const hello = new TextEncoder().encode("hello gearman");
    assert.equal(conn.write(hello), true);
    await client.until(() => client.bytes(conn) === hello.byteLength);
    assertBytes(client.chunks.get(conn), hello);
    assert.equal(server.opens.length, 1);
    assert.equal(server.unannounced, 0, "onOpen comes before onData");
    assert.equal(server.opens[0]?.remote.hostname, HOST);
    assert.equal(client.opens.length, 0, "onOpen is for accepted connections only");
  });

  spec("onData() delivers 20,000 small writes complete and in order", 10000, async () => {
    const server = new Recorder({ echo: true, keep: true });
    const client = new Recorder({ keep: true });
    const conn = await dial(await serve(server), client);
    const payload = randomBytes(20_000 * 37);
    for (let at = 0; at < payload.byteLength; at += 37) conn.write(payload.subarray(at, at + 37));
    await client.until(() => client.bytes(conn) === payload.byteLength);
    assertBytes(server.chunks.get(server.opens[0] as Conn), payload);
    assertBytes(client.chunks.get(conn), payload);
  });

  spec("writev() sends arrays of any size in order, between plain writes", 10000, async () => {
    const server = new Recorder({ echo: true, keep: true });
    const client = new Recorder({ keep: true });
    const conn = await dial(await serve(server), client);
    const payload = randomBytes(3 * MiB + 5);
    // A plain write, then one writev of pieces from 6 bytes to 1 MiB, then a plain write again.
    const cuts = [1, 7, 70_000, MiB, 2 * MiB + 3, 3 * MiB];
    conn.write(payload.subarray(0, 1));
    conn.writev(cuts.slice(0, -1).map((at, i) => payload.subarray(at, cuts[i + 1])));
    conn.write(payload.subarray(3 * MiB));
    await client.until(() => client.bytes(conn) === payload.byteLength);
    assertBytes(client.chunks.get(conn), payload);
  });

  spec("write() returns false over the high-water mark, then onDrain() fires", 15000, async () => {
    const server = new Recorder({ echo: true, keep: true });
    const client = new Recorder({ keep: true });
    const conn = await dial(await serve(server), client);
    const payload = randomBytes(16 * MiB);
    let refused = 0;
    for (let at = 0; at < payload.byteLength; at += 256 * 1024) {
      if (conn.write(payload.subarray(at, at + 256 * 1024))) continue;
      refused++;
      const drains = client.drains;
      await client.until(() => client.drains > drains || client.closeCount(conn) > 0);
    }
    await client.until(() =>
      client.bytes(conn) === payload.byteLength || client.closeCount(conn) > 0
    );
    assert.ok(refused > 0, "write() returned false at least once");
    assert.ok(client.drains > 0, "onDrain fired");
    // Chunks are compared only now, after every later read: none was reused.
    assertBytes(server.chunks.get(server.opens[0] as Conn), payload);
    assertBytes(client.chunks.get(conn), payload);
  });

  spec("write() never sends partially when the peer reads slowly", 15000, async () => {
    // The peer is plain node:net so it can pause: it reads one chunk per turn.
    const got: Uint8Array[] = [];
    let peerEnded!: () => void;
    const ended = new Promise<void>((resolve) => (peerEnded = resolve));
    const peer = nodeNet.createServer((socket) => {
      socket.pause();
      socket.on("data", (chunk: Uint8Array) => {
        got.push(chunk);
        socket.pause();
        setImmediate(() => socket.resume());
      });
      socket.on("end", () => peerEnded()).on("error", () => peerEnded());
      setImmediate(() => socket.resume());
    });
    await new Promise<void>((resolve) => peer.listen(0, HOST, resolve));
    try {
      const client = new Recorder();
      const port = (peer.address() as nodeNet.AddressInfo).port;
      const conn = await net.connect({ hostname: HOST, port }, client);
      conns.push(conn);
      const payload = randomBytes(16 * MiB);
      // Write far past the high-water mark without waiting for onDrain, in
      // uneven pieces and across turns: between turns the reader frees kernel
      // space before the writer hears of it, and a write must then still
      // queue behind any unsent tail.
      let results = "";
      for (let at = 0, turn = 0, size = 1; at < payload.byteLength; turn++, await nextTurn()) {
        for (
          let burst = turn ? 150_000 : 12 * MiB;
          burst > 0 && at < payload.byteLength;
          at += size
        ) {
          size = (size * 7 + 1) % 300_000;
          results += conn.write(payload.subarray(at, at + size)) ? "t" : "f";
          burst -= size;
        }
      }
      assert.match(results, /f/, "write() reported backpressure");
      conn.end();
      await ended;
      await client.until(() => client.closeCount(conn) > 0);
      assertBytes(got, payload);
      assert.deepEqual(client.closes.get(conn), [undefined]);
    } finally {
      peer.close();
    }
  });

  spec("end() flushes pending data before closing", 10000, async () => {
    const payload = randomBytes(4 * MiB);
    const server = new Recorder();
    server.onOpen = (conn: Conn) => {
      server.opens.push(conn);
      conn.write(payload);
      conn.end();
      assert.equal(conn.write(new Uint8Array(1)), false, "write() after end() is refused");
    };
    const client = new Recorder({ keep: true });
    const conn = await dial(await serve(server), client);
    await client.until(() => client.closeCount(conn) > 0);
    assertBytes(client.chunks.get(conn), payload);
    assert.deepEqual(client.closes.get(conn), [undefined]);
    await server.until(() => server.closes.size > 0);
    assert.deepEqual([...server.closes.values()], [[undefined]]);
  });

  spec("a peer's FIN still lets a reply deferred to the next turn go out", 5000, async () => {
    // Like `echo status | nc host 4730`: the request and the FIN arrive
    // together, and the core answers from a write coalescer one turn later.
    const reply = (conn: Conn) => conn.write(new TextEncoder().encode("pong"));
    const server = new Recorder({ onData: (conn) => setImmediate(reply, conn) });
    const listener = await serve(server);
    const peer = nodeNet.connect({ host: HOST, port: listener.addr.port, allowHalfOpen: true });
    const text = await new Promise<string>((resolve, reject) => {
      let text = "";
      peer.on("data", (chunk: Uint8Array) => (text += new TextDecoder().decode(chunk)));
      peer.on("end", () => resolve(text)).on("error", reject).end("ping");
    });
    peer.destroy();
    assert.equal(text, "pong");
    await server.until(() => server.closes.size === 1);
    assert.deepEqual([...server.closes.values()], [[undefined]]);
  });

  spec("connect() rejects with ConnectionError ETIMEDOUT after timeoutMs", 5000, async () => {
    // The accept queue of a listener nobody accepts from holds backlog + 1
    // connections; then the kernel drops SYNs and connect() hangs.
    const deno = (globalThis as unknown as { Deno: DenoApi }).Deno;
    const raw = deno.listen({ hostname: HOST, port: 0, transport: "tcp", tcpBacklog: 1 });
    try {
      const addr = { hostname: HOST, port: raw.addr.port };
      conns.push(await net.connect(addr, new Recorder()), await net.connect(addr, new Recorder()));
      const started = Date.now();
      await assert.rejects(
        net.connect(addr, new Recorder(), { timeoutMs: 200 }),
        (err: unknown) => {
          assert.ok(err instanceof ConnectionError, `got ${String(err)}`);
          return err.code === "ETIMEDOUT";
        },
      );
      assert.ok(Date.now() - started >= 190, "waited for timeoutMs");
    } finally {
      raw.close();
    }
  }, runtime === "deno" ? undefined : "needs a listener that never accepts, as Deno.listen gives");

  spec("serves 200 concurrent connections, each with its own data", 10000, async () => {
    const [server, client] = [new Recorder({ echo: true }), new Recorder({ keep: true })];
    const listener = await serve(server);
    const clients = await Promise.all(Array.from({ length: 200 }, () => dial(listener, client)));
    const payloads = clients.map((conn) => {
      const payload = randomBytes(4096);
      conn.write(payload);
      return payload;
    });
    await client.until(() => clients.every((conn) => client.bytes(conn) === 4096));
    clients.forEach((conn, i) => assertBytes(client.chunks.get(conn), payloads[i] as Uint8Array));
    assert.equal(server.opens.length, 200);
    for (const conn of clients) conn.end();
    await server.until(() => server.closes.size === 200);
    await client.until(() => client.closes.size === 200);
    await quiet();
    for (const conn of [...clients, ...server.opens]) {
      assert.equal(client.closeCount(conn) + server.closeCount(conn), 1);
    }
  });

  for (const side of ["client", "server"] as const) {
    for (const how of ["end", "destroy"] as const) {
      spec(
        `${how}() from the ${side} side gives exactly one onClose on both ends`,
        5000,
        async () => {
          const [server, client] = [new Recorder({ echo: true }), new Recorder()];
          const conn = await dial(await serve(server), client);
          conn.write(new Uint8Array([1, 2, 3]));
          await client.until(() => client.bytes(conn) === 3);
          const accepted = server.opens[0] as Conn;
          const [closing, local, remote] = side === "client"
            ? [conn, client, server] as const
            : [accepted, server, client] as const;
          const boom = new Error("boom");
          if (how === "end") closing.end();
          else closing.destroy(boom);
          closing.destroy();
          closing.end();
          assert.equal(closing.write(new Uint8Array(1)), false, "write() after close is refused");
          await client.until(() => client.closeCount(conn) > 0);
          await server.until(() => server.closeCount(accepted) > 0);
          await quiet();
          assert.equal(client.closeCount(conn), 1);
          assert.equal(server.closeCount(accepted), 1);
          const peer = closing === conn ? accepted : conn;
          assert.deepEqual(local.closes.get(closing), [how === "end" ? undefined : boom]);
          if (how === "end") assert.deepEqual(remote.closes.get(peer), [undefined]);
        },
      );
    }
  }

  spec("a throwing onData() closes only its connection, with that error", 5000, async () => {
    const bug = new Error("handler bug");
    const server = new Recorder({
      echo: true,
      onData(_conn, chunk) {
        if (chunk[0] === 0xff) throw bug;
      },
    });
    const listener = await serve(server);
    (await dial(listener, new Recorder())).write(new Uint8Array([0xff]));
    await server.until(() => server.closes.size === 1);
    assert.deepEqual([...server.closes.values()], [[bug]]);
    const client = new Recorder();
    const good = await dial(listener, client);
    good.write(new Uint8Array([1]));
    await client.until(() => client.bytes(good) === 1);
  });

  spec("connect() rejects with ConnectionError ECONNREFUSED on a closed port", 5000, async () => {
    const listener = await net.listen({ hostname: HOST, port: 0 }, new Recorder());
    await listener.close();
    await assert.rejects(net.connect(listener.addr, new Recorder()), (err: unknown) => {
      assert.ok(err instanceof ConnectionError, `got ${String(err)}`);
      assert.ok(err.cause !== undefined, "cause keeps the runtime's error");
      return err.code === "ECONNREFUSED";
    });
  });

  spec("listener.close() stops accepting but keeps accepted connections", 5000, async () => {
    const [server, client] = [new Recorder({ echo: true }), new Recorder()];
    const listener = await serve(server);
    const conn = await dial(listener, client);
    await listener.close();
    await assert.rejects(net.connect(listener.addr, new Recorder()), { code: "ECONNREFUSED" });
    conn.write(new Uint8Array([4, 5]));
    await client.until(() => client.bytes(conn) === 2);
    assert.equal(client.closeCount(conn), 0);
  });
}

const native = await defaultNet();
const adapters: Array<[string, Net]> = native instanceof NodeNet
  ? [["NodeNet (default)", native]]
  : [[`${native.constructor.name} (default)`, native], ["NodeNet (fallback)", new NodeNet()]];
if (runtime === "deno") {
  const { DenoNet } = await import("../../src/net/deno_net.ts");
  adapters.push(["DenoNet (Deno.listen)", new DenoNet()]);
}
for (const [label, net] of adapters) describe(`${label} on ${runtime}`, () => contract(net));
