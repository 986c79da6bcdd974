// A bare Gearman peer for server tests: sends packets and admin lines, and
// awaits what comes back, packet by packet. Built on the project's own Net and
// codec so it runs on every runtime.
import { defaultNet } from "../src/net/default_net.ts";
import type { Conn } from "../src/net/net.ts";
import { Decoder } from "../src/protocol/decoder.ts";
import { type Arg, encodeRequest } from "../src/protocol/encoder.ts";
import { PACKET_NAMES } from "../src/protocol/constants.ts";
import { latin1, latin1Bytes } from "../src/util/bytes.ts";

/** A packet received, with its arguments as latin1 strings. */
export interface Received {
  readonly type: number;
  readonly name: string;
  readonly args: string[];
}

type Item = Received | { line: string } | { closed: true };

export class RawClient {
  #conn!: Conn;
  #items: Item[] = [];
  #waiter: (() => void) | undefined;
  #closed = false;
  readonly #decoder = new Decoder({
    onPacket: (_m, type, args) => this.#add({ type, name: PACKET_NAMES[type] ?? "?", args: args.map(latin1) }),
    onAdminLine: (line) => this.#add({ line }),
    onBadPacket: (_m, type, problem) => this.#add({ type: -type, name: problem, args: [] }),
  }, 1 << 30);

  static async connect(port: number): Promise<RawClient> {
    const client = new RawClient();
    const net = await defaultNet();
    client.#conn = await net.connect({ hostname: "127.0.0.1", port }, {
      onData: (_c, chunk) => client.#decoder.push(chunk),
      onClose: () => {
        client.#closed = true;
        client.#add({ closed: true });
      },
    });
    return client;
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(type: number, args: readonly Arg[] = []): void {
    this.#conn.write(encodeRequest(type, args));
  }

  sendRaw(bytes: Uint8Array | string): void {
    this.#conn.write(typeof bytes === "string" ? latin1Bytes(bytes) : bytes);
  }

  /** The next packet; fails on an admin line or close. */
  async next(timeoutMs = 3000): Promise<Received> {
    const item = await this.#take(timeoutMs);
    if ("type" in item) return item;
    throw new Error(`expected a packet, got ${JSON.stringify(item)}`);
  }

  /** The next packet, which must be of `type`. */
  async expect(type: number, timeoutMs = 3000): Promise<Received> {
    const got = await this.next(timeoutMs);
    if (got.type !== type) {
      throw new Error(`expected ${PACKET_NAMES[type]}, got ${got.name} ${JSON.stringify(got.args)}`);
    }
    return got;
  }

  /** Resolves true when nothing arrives within `ms` (only for asserting silence). */
  async silent(ms: number): Promise<boolean> {
    try {
      const item = await this.#take(ms);
      this.#items.unshift(item);
      return false;
    } catch {
      return true;
    }
  }

  /** Sends an admin line and collects the reply: one line, or a listing up to ".". */
  async admin(line: string, listing = false, timeoutMs = 3000): Promise<string[]> {
    this.sendRaw(`${line}\r\n`);
    const lines: string[] = [];
    for (;;) {
      const item = await this.#take(timeoutMs);
      if (!("line" in item)) throw new Error(`expected admin text, got ${JSON.stringify(item)}`);
      if (!listing) return [item.line];
      if (item.line === ".") return lines;
      lines.push(item.line);
    }
  }

  /** Resolves when the server closes the connection. */
  async waitClosed(timeoutMs = 3000): Promise<void> {
    for (;;) {
      const item = await this.#take(timeoutMs);
      if ("closed" in item) return;
    }
  }

  close(): void {
    this.#conn.destroy();
  }

  #add(item: Item): void {
    this.#items.push(item);
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  async #take(timeoutMs: number): Promise<Item> {
    const deadline = Date.now() + timeoutMs;
    while (this.#items.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting for the server");
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
    return this.#items.shift() as Item;
  }
}
