import { ConnectionError, ServerError } from "../errors.ts";
import type { Addr, Conn } from "../net/net.ts";
import { defaultNet } from "../net/default_net.ts";
import { latin1, latin1Bytes } from "../util/bytes.ts";
import type { AdminOptions } from "./admin_types.ts";
import { formatAddr, parseServers } from "./servers.ts";

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
 * A connection to a server's text admin protocol, opened on first use.
 * Commands are sent one at a time, in call order; each answer is read line
 * by line, within the answer timeout.
 */
export class AdminConnection {
  readonly #options: AdminOptions;
  readonly #addr: Addr;
  readonly #name: string;
  #conn: Promise<Conn> | undefined;
  #buffer = "";
  #waiters: (() => void)[] = [];
  #closedError: Error | undefined;
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
   * @throws {ConnectionError} when the server is down or does not answer in time
   */
  command(line: string): Promise<string> {
    return this.#serial(async () => {
      await this.#send(line);
      const answer = await this.#line();
      if (answer.startsWith("OK")) return answer.slice(3);
      throw adminError(answer);
    });
  }

  /**
   * Sends a listing command; resolves with its lines, without the final `.`.
   * @throws {ServerError} on an `ERR` answer
   * @throws {ConnectionError} when the server is down or does not answer in time
   */
  listing(line: string): Promise<string[]> {
    return this.#serial(async () => {
      await this.#send(line);
      const lines: string[] = [];
      for (;;) {
        const next = await this.#line();
        if (next === ".") return lines;
        if (lines.length === 0 && next.startsWith("ERR ")) throw adminError(next);
        lines.push(next);
      }
    });
  }

  /** Closes the connection, once it is open. */
  close(): void {
    void this.#conn?.then((c) => c.end(), () => {});
  }

  #serial<R>(run: () => Promise<R>): Promise<R> {
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => {});
    return next;
  }

  async #send(line: string): Promise<void> {
    const conn = await (this.#conn ??= this.#connect());
    conn.write(latin1Bytes(`${line}\r\n`));
  }

  async #connect(): Promise<Conn> {
    const net = this.#options.net ?? await defaultNet();
    try {
      return await net.connect(this.#addr, {
        onData: (_c, chunk) => {
          this.#buffer += latin1(chunk);
          this.#wake();
        },
        onClose: () => {
          this.#closedError = new ConnectionError(`server ${this.#name} closed the connection`);
          this.#wake();
        },
      }, { timeoutMs: this.#options.timeoutMs ?? 5000 });
    } catch (err) {
      this.#conn = undefined;
      const code = (err as { code?: string }).code ?? "CONNECTION";
      throw new ConnectionError(`server ${this.#name} is down: ${(err as Error).message}`, {
        cause: err,
        code,
      });
    }
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  async #line(): Promise<string> {
    const deadline = Date.now() + (this.#options.timeoutMs ?? 5000);
    for (;;) {
      const nl = this.#buffer.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffer.slice(0, nl).replace(/\r$/, "");
        this.#buffer = this.#buffer.slice(nl + 1);
        return line;
      }
      if (this.#closedError !== undefined) throw this.#closedError;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new ConnectionError(`server ${this.#name} did not answer in time`, {
          code: "TIMEOUT",
        });
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }
}
