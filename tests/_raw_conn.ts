/**
 * A minimal raw Gearman peer over `node:net`, independent of src/: it speaks
 * the binary protocol and the text admin protocol so tests can assert on
 * exactly what a server (ours or gearmand) sends.
 */
import { connect, type Socket } from "node:net";
import { Buffer } from "node:buffer";
import { HOST } from "./_target.ts";
import { withTimeout } from "./_wait.ts";

/** Packet type numbers used by the tests (PROTOCOL.md §3). */
export const PT = {
  CAN_DO: 1,
  PRE_SLEEP: 4,
  NOOP: 6,
  SUBMIT_JOB: 7,
  JOB_CREATED: 8,
  GRAB_JOB: 9,
  NO_JOB: 10,
  JOB_ASSIGN: 11,
  WORK_STATUS: 12,
  WORK_COMPLETE: 13,
  WORK_FAIL: 14,
  GET_STATUS: 15,
  ECHO_REQ: 16,
  ECHO_RES: 17,
  SUBMIT_JOB_BG: 18,
  ERROR: 19,
  STATUS_RES: 20,
  SET_CLIENT_ID: 22,
  WORK_EXCEPTION: 25,
  WORK_DATA: 28,
  WORK_WARNING: 29,
  SUBMIT_JOB_HIGH_BG: 32,
  SUBMIT_JOB_LOW_BG: 34,
} as const;

// deno-fmt-ignore
/** Argument count of each server → peer packet type (the last may hold NULs). */
const RESPONSE_ARGS: Readonly<Record<number, number>> = {
  6: 0, 8: 1, 10: 0, 11: 3, 12: 3, 13: 2, 14: 1, 17: 1, 19: 2, 20: 5,
  25: 2, 27: 1, 28: 2, 29: 2, 31: 4, 40: 5, 42: 6,
};

/** One decoded packet. */
export interface RawPacket {
  readonly magic: "REQ" | "RES";
  readonly type: number;
  readonly args: readonly Buffer[];
  /** The whole payload, before splitting into args. */
  readonly payload: Buffer;
}

/** Encodes one binary packet: "\0REQ"/"\0RES", type u32be, size u32be, NUL-joined args. */
export function encodePacket(
  type: number,
  args: readonly (string | Uint8Array)[] = [],
  magic: "REQ" | "RES" = "REQ",
): Buffer {
  const payload = Buffer.concat(args.flatMap((a, i) => {
    const bytes = typeof a === "string" ? Buffer.from(a, "utf8") : Buffer.from(a);
    return i === 0 ? [bytes] : [Buffer.from([0]), bytes];
  }));
  const header = Buffer.alloc(12);
  header.write(`\0${magic}`, 0, "latin1");
  header.writeUInt32BE(type, 4);
  header.writeUInt32BE(payload.length, 8);
  return Buffer.concat([header, payload]);
}

function splitArgs(type: number, payload: Buffer): Buffer[] {
  const n = RESPONSE_ARGS[type] ?? 1;
  if (n === 0) return [];
  const args: Buffer[] = [];
  let start = 0;
  while (args.length < n - 1) {
    const nul = payload.indexOf(0, start);
    if (nul < 0) break;
    args.push(payload.subarray(start, nul));
    start = nul + 1;
  }
  args.push(payload.subarray(start));
  return args;
}

/**
 * A bare TCP connection that speaks the binary protocol and the text admin
 * protocol, for assertions on exactly what the server sends.
 */
export class RawConn {
  readonly socket: Socket;
  /** Resolves when the server closes the connection (or it errors). */
  readonly closed: Promise<void>;
  #buf: Buffer = Buffer.alloc(0);
  #isClosed = false;
  #wake: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => {
      const done = () => {
        this.#isClosed = true;
        this.#notify();
        resolve();
      };
      socket.once("close", done);
      socket.once("end", done);
    });
    socket.on("error", () => {}); // ECONNRESET after garbage is expected; "close" follows
    socket.on("data", (chunk: Buffer) => {
      this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
      this.#notify();
    });
  }

  /** Connects to 127.0.0.1:`port`. */
  static open(port: number, timeoutMs = 3000): Promise<RawConn> {
    return withTimeout(
      new Promise<RawConn>((resolve, reject) => {
        const socket = connect({ host: HOST, port });
        socket.once("error", reject);
        socket.once("connect", () => {
          socket.off("error", reject);
          socket.setNoDelay(true);
          resolve(new RawConn(socket));
        });
      }),
      timeoutMs,
      `a connection to ${HOST}:${port}`,
    );
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async #until<T>(take: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = take();
      if (value !== undefined) return value;
      if (this.#isClosed) throw new Error(`connection closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await withTimeout(new Promise<void>((resolve) => this.#wake = resolve), left, what).catch(
        () => {},
      );
    }
  }

  /** Writes bytes as they are. */
  write(bytes: Uint8Array | string): void {
    this.socket.write(bytes);
  }

  /** Sends one `\0REQ` packet. */
  send(type: number, ...args: (string | Uint8Array)[]): void {
    this.socket.write(encodePacket(type, args));
  }

  /** The next binary packet from the server. */
  nextPacket(timeoutMs = 5000): Promise<RawPacket> {
    return this.#until(
      () => {
        if (this.#buf.length < 12) return undefined;
        const size = this.#buf.readUInt32BE(8);
        if (this.#buf.length < 12 + size) return undefined;
        const magicText = this.#buf.toString("latin1", 0, 4);
        const type = this.#buf.readUInt32BE(4);
        const payload = Buffer.from(this.#buf.subarray(12, 12 + size));
        this.#buf = this.#buf.subarray(12 + size);
        const magic = magicText === "\0REQ" ? "REQ" : "RES";
        return { magic, type, payload, args: splitArgs(type, payload) } satisfies RawPacket;
      },
      timeoutMs,
      "a packet",
    );
  }

  /** The next packet, skipping NOOPs; fails if its type is not `type`. */
  async expect(type: number, timeoutMs = 5000): Promise<RawPacket> {
    for (;;) {
      const p = await this.nextPacket(timeoutMs);
      if (p.type === PT.NOOP && type !== PT.NOOP) continue;
      if (p.type !== type) {
        throw new Error(
          `expected packet type ${type}, got ${p.type} ${
            JSON.stringify(p.payload.toString("latin1"))
          }`,
        );
      }
      return p;
    }
  }

  /**
   * Sends one admin text command and returns the whole reply: one line for
   * `OK`/`ERR` answers, else everything up to the terminating `.\n` line.
   */
  async admin(command: string, timeoutMs = 5000): Promise<string> {
    this.socket.write(`${command}\r\n`);
    return await this.#until(
      () => {
        const text = this.#buf.toString("latin1");
        let end = -1;
        if (/^(OK|ERR)\b/.test(text)) {
          const nl = text.indexOf("\n");
          if (nl >= 0) end = nl + 1;
        } else if (text.startsWith(".\n")) {
          end = 2;
        } else {
          const dot = text.indexOf("\n.\n");
          if (dot >= 0) end = dot + 3;
        }
        if (end < 0) return undefined;
        this.#buf = this.#buf.subarray(end); // latin1: one char per byte
        return text.slice(0, end);
      },
      timeoutMs,
      `the reply to admin command ${JSON.stringify(command)}`,
    );
  }

  /** Closes the connection and waits (bounded) until it is gone. */
  async close(): Promise<void> {
    this.socket.destroy();
    await withTimeout(this.closed, 2000, "socket close").catch(() => {});
  }
}

/** Sends one admin command on a fresh connection and returns the reply. */
export async function admin(port: number, command: string, timeoutMs = 5000): Promise<string> {
  const conn = await RawConn.open(port);
  try {
    return await conn.admin(command, timeoutMs);
  } finally {
    await conn.close();
  }
}
