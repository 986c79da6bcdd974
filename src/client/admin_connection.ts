import { ConnectionError, InvalidArgumentError, ProtocolError, ServerError } from "../errors.ts";
import type { Addr, Conn } from "../net/net.ts";
import { defaultNet } from "../net/default_net.ts";
import { concatBytes, utf8Bytes } from "../util/bytes.ts";
import { Fifo } from "../util/fifo.ts";
import type { AdminOptions } from "./admin_types.ts";
import { formatAddr, parseServers } from "./servers.ts";

const NEWLINE = 10;
const utf8 = new TextDecoder();

/**
 * `show unique jobs`: a unique id that is exactly "." reads as the end of the
 * listing (gearmand's format cannot tell them apart), and the rows after it
 * may still be on their way.
 */
const UNIQUES = /^show +unique +jobs( |$)/i;

/**
 * An `ERR` answer as a ServerError: `ERR CODE text+with+pluses`, or, for
 * gearmand's lower-case answers (`ERR function not found`), code `ERR`.
 */
function adminError(line: string): ServerError {
  const rest = line.slice(4);
  const space = rest.indexOf(" ");
  const first = space < 0 ? rest : rest.slice(0, space);
  if (/^[A-Z][A-Z_]*$/.test(first)) {
    return ServerError.fromPacket(
      first,
      space < 0 ? "" : rest.slice(space + 1).replaceAll("+", " "),
    );
  }
  return ServerError.fromPacket("ERR", rest);
}

/**
 * The lines one connection received. A line is decoded as UTF-8 once it is
 * complete, so a character split across reads decodes right.
 */
class AnswerLines {
  readonly #lines = new Fifo<string>();
  /** The start of a line whose end has not arrived, one piece per read. */
  #pieces: Uint8Array[] = [];
  #closed: Error | undefined;
  #wake: (() => void) | undefined;

  /** False once the connection is lost or holds bytes that no command read. */
  get clean(): boolean {
    return this.#closed === undefined && this.#lines.length === 0 && this.#pieces.length === 0;
  }

  push(chunk: Uint8Array): void {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl >= 0; nl = chunk.indexOf(NEWLINE, start)) {
      const end = chunk.subarray(start, nl);
      const line = utf8.decode(
        this.#pieces.length === 0 ? end : concatBytes([...this.#pieces, end]),
      );
      this.#pieces = [];
      this.#lines.push(line.endsWith("\r") ? line.slice(0, -1) : line);
      start = nl + 1;
    }
    if (start < chunk.length) this.#pieces.push(chunk.slice(start));
    this.#wake?.();
  }

  close(err: Error): void {
    this.#closed = err;
    this.#wake?.();
  }

  /** The next line, without its line end; `timeout()` is thrown after `ms`. */
  async next(ms: number, timeout: () => Error): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const line = this.#lines.shift();
      if (line !== undefined) return line;
      if (this.#closed !== undefined) throw this.#closed;
      const left = deadline - Date.now();
      if (left <= 0) throw timeout();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
      this.#wake = undefined;
    }
  }
}

/** An open connection and what it received. */
interface Session {
  readonly conn: Conn;
  readonly lines: AnswerLines;
}

/**
 * A connection to a server's text admin protocol, opened on first use.
 * Commands are sent one at a time, in call order, as UTF-8; each answer is
 * read line by line, within the answer timeout.
 *
 * A connection is used for the next command only while its answers have
 * kept in step with the commands. After a timeout, a lost connection, an
 * answer of the wrong shape, bytes that no command asked for, or a
 * `show unique jobs` listing, it is dropped, and the next command connects
 * again; so a late or left-over answer is never read as another's.
 */
export class AdminConnection {
  readonly #options: AdminOptions;
  readonly #addr: Addr;
  readonly #name: string;
  #session: Session | undefined;
  #closed = false;
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * Prepares the connection; it is opened by the first command.
   * @throws {InvalidArgumentError} when the server address is malformed
   */
  constructor(options: AdminOptions) {
    this.#options = options;
    this.#addr = parseServers(options.server)[0] as Addr;
    this.#name = formatAddr(this.#addr);
  }

  /**
   * Sends a one-line command; resolves with the text after `OK`.
   * @throws {ServerError} on an `ERR` answer
   * @throws {ProtocolError} on an answer that is neither `OK` nor `ERR`
   * @throws {ConnectionError} when the server is down or does not answer in time
   * @throws {InvalidArgumentError} when `line` contains a CR or LF
   */
  command(line: string): Promise<string> {
    return this.#exchange(line, async (lines) => {
      const answer = await this.#next(lines);
      if (answer === "OK" || answer.startsWith("OK ")) return answer.slice(3);
      if (answer.startsWith("ERR ")) throw adminError(answer);
      throw new ProtocolError(
        `admin: expected OK or ERR from ${this.#name} after ${JSON.stringify(line)}, got ${
          JSON.stringify(answer.slice(0, 80))
        }`,
      );
    });
  }

  /**
   * Sends a listing command; resolves with its lines, without the final `.`.
   * @throws {ServerError} on an `ERR` answer
   * @throws {ConnectionError} when the server is down or does not answer in time
   * @throws {InvalidArgumentError} when `line` contains a CR or LF
   */
  listing(line: string): Promise<string[]> {
    return this.#exchange(line, async (lines) => {
      const rows: string[] = [];
      for (;;) {
        const next = await this.#next(lines);
        if (next === ".") return rows;
        if (rows.length === 0 && next.startsWith("ERR ")) throw adminError(next);
        rows.push(next);
      }
    }, UNIQUES.test(line));
  }

  /**
   * Closes the connection; a command already sent may still get its answer,
   * the others reject with ConnectionError (code `CLOSED`).
   */
  close(): void {
    this.#closed = true;
    this.#session?.conn.end();
    this.#session = undefined;
  }

  /** Sends `line` and reads its answer; `last`: drop the connection after it. */
  #exchange<R>(line: string, read: (lines: AnswerLines) => Promise<R>, last = false): Promise<R> {
    if (/[\r\n]/.test(line)) {
      // A line break would send a second command, whose answer no caller awaits.
      return Promise.reject(InvalidArgumentError.format("admin command", "contains a line break"));
    }
    const run = async (): Promise<R> => {
      const session = await this.#open();
      session.conn.write(utf8Bytes(`${line}\r\n`));
      let keep = !last;
      try {
        return await read(session.lines);
      } catch (err) {
        // An ERR line is a whole answer; anything else may leave one behind.
        keep &&= err instanceof ServerError;
        throw err;
      } finally {
        if (!keep) this.#drop(session);
      }
    };
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => {});
    return next;
  }

  #next(lines: AnswerLines): Promise<string> {
    return lines.next(
      this.#options.timeoutMs ?? 5000,
      () => new ConnectionError(`server ${this.#name} did not answer in time`, { code: "TIMEOUT" }),
    );
  }

  #drop(session: Session): void {
    session.conn.destroy();
    if (this.#session === session) this.#session = undefined;
  }

  /** The open connection, or a new one when there is none or it fell out of step. */
  async #open(): Promise<Session> {
    if (this.#session !== undefined && !this.#session.lines.clean) this.#drop(this.#session);
    if (this.#session !== undefined) return this.#session;
    this.#throwIfClosed();
    const net = this.#options.net ?? await defaultNet();
    const lines = new AnswerLines();
    let conn: Conn;
    try {
      conn = await net.connect(this.#addr, {
        onData: (_c, chunk) => lines.push(chunk),
        onClose: () =>
          lines.close(new ConnectionError(`server ${this.#name} closed the connection`)),
      }, { timeoutMs: this.#options.timeoutMs ?? 5000 });
    } catch (err) {
      const code = (err as { code?: string }).code ?? "CONNECTION";
      throw new ConnectionError(`server ${this.#name} is down: ${(err as Error).message}`, {
        cause: err,
        code,
      });
    }
    if (this.#closed) { // close() came while connecting
      conn.destroy();
      this.#throwIfClosed();
    }
    return this.#session = { conn, lines };
  }

  #throwIfClosed(): void {
    if (this.#closed) {
      throw new ConnectionError(`connection to ${this.#name} closed`, { code: "CLOSED" });
    }
  }
}
