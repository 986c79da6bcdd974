/**
 * Background jobs in PostgreSQL, through the `postgres` npm package (it runs
 * on Node, Deno and Bun). One connection; a lost connection is reopened by
 * the driver on the next commit, so the server recovers when the database
 * does. Each group commit is one transaction of at most four pipelined
 * statements, whatever the number of jobs in it (`unnest` of array
 * parameters).
 *
 * Several servers may share one database: every row names its owner (the
 * server's job handle prefix), a server reads and deletes only its own rows,
 * and `gearman_ts_servers` keeps each owner's handle counter and the time of
 * its last commit, for a later takeover of a dead server's rows.
 *
 * `--fsync os` sets `synchronous_commit=off` (a commit survives a crash of
 * gearman-ts; PostgreSQL flushes it within its `wal_writer_delay`), `--fsync
 * always` keeps `synchronous_commit=on`.
 *
 * @module
 */
import { Priority } from "../protocol/constants.ts";
import {
  type FsyncMode,
  type JobStore,
  type StoreBatch,
  type StoredJob,
  type StoredQueue,
  StoreError,
  type StoreOpenOptions,
} from "./store.ts";

// PostgreSQL type oids for array parameters.
const INT8 = 20;
const INT4 = 23;
const INT2 = 21;
const TEXT = 25;
const BYTEA = 17;

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS gearman_ts_jobs (
    owner TEXT NOT NULL,
    seq BIGINT NOT NULL,
    handle TEXT NOT NULL,
    function_name TEXT NOT NULL,
    unique_key TEXT NOT NULL,
    reducer TEXT NOT NULL DEFAULT '',
    priority SMALLINT NOT NULL,
    when_to_run BIGINT NOT NULL DEFAULT 0,
    retries INTEGER NOT NULL DEFAULT 0,
    data BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, seq)
  )`,
  `CREATE TABLE IF NOT EXISTS gearman_ts_servers (
    owner TEXT PRIMARY KEY,
    counter BIGINT NOT NULL DEFAULT 0,
    last_commit TIMESTAMPTZ NOT NULL DEFAULT now()
  )`,
];

/** The part of postgres.js used here (its own types are much wider). */
interface Sql {
  // deno-lint-ignore no-explicit-any
  (strings: TemplateStringsArray, ...values: any[]): Promise<any[]>;
  array(values: readonly unknown[], type: number): unknown;
  unsafe(query: string): Promise<unknown[]>;
  begin<T>(fn: (tx: Sql) => T | Promise<T>): Promise<T>;
  end(options?: { timeout?: number }): Promise<void>;
}

type PostgresFactory = (url: string, options: Record<string, unknown>) => Sql;

interface Row {
  seq: string | number;
  handle: string;
  function_name: string;
  unique_key: string;
  reducer: string;
  priority: number;
  when_to_run: string | number;
  retries: number;
  data: Uint8Array;
}

/** A {@link JobStore} in a PostgreSQL database, shared by owner. */
export class PostgresStore implements JobStore {
  readonly name: string;
  readonly durable = true;
  readonly #url: string;
  readonly #fsync: FsyncMode;
  readonly #owner: string;
  #sql: Sql | undefined;
  #driver: PostgresFactory | undefined;
  #counter = 0;

  constructor(url: string, opts: StoreOpenOptions = {}) {
    this.#url = url;
    this.name = redact(url);
    this.#fsync = opts.fsync ?? "os";
    this.#owner = opts.owner ?? "H:gearman-ts";
  }

  async open(): Promise<StoredQueue> {
    let factory: PostgresFactory;
    try {
      factory = await loadDriver();
    } catch (err) {
      throw new StoreError(
        "store: the postgres store needs the 'postgres' package (npm install postgres)",
        { cause: err },
      );
    }
    this.#driver = factory;
    const sql = this.#client();
    this.#sql = sql;
    try {
      await sql.begin(async (tx) => {
        // Servers starting together must not race on CREATE TABLE.
        await tx`SELECT pg_advisory_xact_lock(hashtext('gearman_ts_schema'))`;
        for (const statement of SCHEMA) await tx.unsafe(statement);
      });
      const owner = this.#owner;
      const [meta] = await sql`SELECT counter FROM gearman_ts_servers WHERE owner = ${owner}`;
      const [max] = await sql`SELECT max(seq) AS m FROM gearman_ts_jobs WHERE owner = ${owner}`;
      this.#counter = Math.max(Number(meta?.counter ?? 0), Number(max?.m ?? 0));
      const rows = await sql`
        SELECT seq, handle, function_name, unique_key, reducer, priority, when_to_run, retries, data
        FROM gearman_ts_jobs WHERE owner = ${owner} ORDER BY seq` as Row[];
      return { jobs: rows.map(toJob), counter: this.#counter };
    } catch (err) {
      this.#sql = undefined;
      await sql.end({ timeout: 1 }).catch(() => {});
      throw new StoreError(`store: cannot open ${this.name}: ${message(err)}`, { cause: err });
    }
  }

  async commit(batch: StoreBatch): Promise<void> {
    const sql = this.#sql;
    if (sql === undefined) throw new StoreError(`store: ${this.name} is closed`);
    // Parameters are read now: the jobs may change while the commit is in flight.
    const ins = columns(batch.inserts);
    const upSeq = batch.updates.map((j) => j.seq);
    const upRetries = batch.updates.map((j) => j.retries);
    const deletes = batch.deletes;
    const counter = batch.counter > this.#counter ? batch.counter : 0;
    const owner = this.#owner;
    try {
      await sql.begin((tx) => {
        const queries: Promise<unknown>[] = [];
        if (deletes.length > 0) {
          queries.push(tx`
            DELETE FROM gearman_ts_jobs
            WHERE owner = ${owner} AND seq = ANY(${tx.array(deletes, INT8)}::bigint[])`);
        }
        if (ins !== undefined) {
          queries.push(tx`
            INSERT INTO gearman_ts_jobs
              (owner, seq, handle, function_name, unique_key, reducer, priority, when_to_run, retries, data)
            SELECT ${owner}, * FROM unnest(
              ${tx.array(ins.seq, INT8)}::bigint[], ${tx.array(ins.handle, TEXT)}::text[],
              ${tx.array(ins.fn, TEXT)}::text[], ${tx.array(ins.unique, TEXT)}::text[],
              ${tx.array(ins.reducer, TEXT)}::text[], ${tx.array(ins.priority, INT2)}::smallint[],
              ${tx.array(ins.when, INT8)}::bigint[], ${tx.array(ins.retries, INT4)}::integer[],
              ${tx.array(ins.data, BYTEA)}::bytea[])
            ON CONFLICT (owner, seq) DO NOTHING`);
        }
        if (upSeq.length > 0) {
          queries.push(tx`
            UPDATE gearman_ts_jobs AS j SET retries = u.r
            FROM unnest(${tx.array(upSeq, INT8)}::bigint[], ${
            tx.array(upRetries, INT4)
          }::integer[]) AS u(s, r)
            WHERE j.owner = ${owner} AND j.seq = u.s`);
        }
        if (counter > 0) queries.push(saveCounter(tx, owner, counter));
        return Promise.all(queries);
      });
    } catch (err) {
      if (lostConnection(err) && this.#sql === sql) this.#renew(sql);
      throw new StoreError(`store: ${this.name}: ${message(err)}`, { cause: err });
    }
    if (counter > this.#counter) this.#counter = counter;
  }

  async replace(jobs: readonly StoredJob[], counter: number): Promise<void> {
    const sql = this.#sql;
    if (sql === undefined) throw new StoreError(`store: ${this.name} is closed`);
    const owner = this.#owner;
    try {
      await sql`DELETE FROM gearman_ts_jobs WHERE owner = ${owner}`;
      await this.commit({ inserts: jobs, updates: [], deletes: [], counter });
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError(`store: ${this.name}: ${message(err)}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    const sql = this.#sql;
    this.#sql = undefined;
    await sql?.end({ timeout: 5 });
  }

  #client(): Sql {
    return (this.#driver as PostgresFactory)(this.#url, {
      max: 1,
      connect_timeout: 5,
      idle_timeout: 0,
      onnotice: () => {},
      connection: {
        application_name: `gearman-ts ${this.#owner}`.slice(0, 63),
        synchronous_commit: this.#fsync === "always" ? "on" : "off",
      },
    });
  }

  /**
   * The connection is gone: the next commit starts on a new client. The
   * driver's own reconnect can stall after the server ends a connection
   * (every attempt then runs into CONNECT_TIMEOUT), and a group commit that
   * fails is retried by the caller anyway.
   */
  #renew(old: Sql): void {
    this.#sql = this.#client();
    old.end({ timeout: 0 }).catch(() => {});
  }
}

/** Errors that mean the connection itself is lost, not that a statement failed. */
const LOST = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
]);

function lostConnection(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && LOST.has(code);
}

/** The `postgres` package: from node_modules, or on Deno without one from npm directly. */
async function loadDriver(): Promise<PostgresFactory> {
  type Module = { default: PostgresFactory };
  try {
    return ((await import("postgres")) as unknown as Module).default;
  } catch (err) {
    if ((globalThis as { Deno?: unknown }).Deno === undefined) throw err;
    const specifier = "npm:postgres@^3.4.9";
    return ((await import(specifier)) as Module).default;
  }
}

function saveCounter(tx: Sql, owner: string, counter: number): Promise<unknown> {
  return tx`
    INSERT INTO gearman_ts_servers (owner, counter, last_commit) VALUES (${owner}, ${counter}, now())
    ON CONFLICT (owner) DO UPDATE
    SET counter = GREATEST(gearman_ts_servers.counter, EXCLUDED.counter), last_commit = now()`;
}

/** The inserted jobs as one array per column, or undefined when there are none. */
function columns(jobs: readonly StoredJob[]) {
  if (jobs.length === 0) return undefined;
  const n = jobs.length;
  const c = {
    seq: new Array<number>(n),
    handle: new Array<string>(n),
    fn: new Array<string>(n),
    unique: new Array<string>(n),
    reducer: new Array<string>(n),
    priority: new Array<number>(n),
    when: new Array<number>(n),
    retries: new Array<number>(n),
    data: new Array<Uint8Array>(n),
  };
  for (let i = 0; i < n; i++) {
    const j = jobs[i] as StoredJob;
    c.seq[i] = j.seq;
    c.handle[i] = j.handle;
    c.fn[i] = j.fn.name;
    c.unique[i] = j.unique;
    c.reducer[i] = j.reducer;
    c.priority[i] = j.priority;
    c.when[i] = j.when;
    c.retries[i] = j.retries;
    c.data[i] = j.data;
  }
  return c;
}

function toJob(row: Row): StoredJob {
  const p = Number(row.priority);
  return {
    seq: Number(row.seq),
    handle: row.handle,
    fn: { name: row.function_name },
    unique: row.unique_key,
    reducer: row.reducer,
    // A copy: the driver's Buffer may share memory with its read buffer.
    data: new Uint8Array(row.data),
    priority: p === Priority.HIGH || p === Priority.LOW ? p : Priority.NORMAL,
    when: Number(row.when_to_run),
    retries: Number(row.retries),
  };
}

/** The URL without its password, for logs. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== "") u.password = "";
    return u.toString().replace(/:@/, "@");
  } catch {
    return "postgres://(unparsable URL)";
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
