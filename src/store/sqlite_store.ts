/**
 * Background jobs in an SQLite file, on the runtime's own driver:
 * `bun:sqlite` on Bun, `node:sqlite` on Node 24 and Deno 2. WAL journal,
 * exclusive lock (one server per file);
 * `--fsync os` commits with `synchronous=NORMAL` (a commit survives a crash
 * of the server process), `--fsync always` with `synchronous=FULL` (each
 * group commit is on disk before JOB_CREATED goes out).
 *
 * On open, rows of gearmand's libsqlite3 table (`gearman_queue`) found in the
 * same file are moved into ours in one transaction, so pointing
 * `--libsqlite3-db` at gearmand's file takes its queue over.
 *
 * @module
 */
import { Priority } from "../protocol/constants.ts";
import { latin1, utf8Bytes } from "../util/bytes.ts";
import type {
  BunSqliteModule,
  NodeSqliteModule,
  SqlDatabase,
  SqlStatement,
  SqlValue,
} from "./sqlite_types.d.ts";
import {
  type FsyncMode,
  type JobStore,
  type StoreBatch,
  type StoredJob,
  type StoredQueue,
  StoreError,
  type StoreOpenOptions,
} from "./store.ts";

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS gearman_ts_jobs (
    seq INTEGER PRIMARY KEY,
    handle TEXT NOT NULL,
    function_name TEXT NOT NULL,
    unique_key TEXT NOT NULL,
    reducer TEXT NOT NULL DEFAULT '',
    priority INTEGER NOT NULL,
    when_to_run INTEGER NOT NULL DEFAULT 0,
    retries INTEGER NOT NULL DEFAULT 0,
    data BLOB NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS gearman_ts_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)`,
];

/** Rows per multi-row INSERT or DELETE: one statement call per 16 jobs costs a third less per job. */
const ROWS = 16;

const insertSql = (rows: number) =>
  `INSERT OR REPLACE INTO gearman_ts_jobs
  (seq, handle, function_name, unique_key, reducer, priority, when_to_run, retries, data)
  VALUES ${new Array(rows).fill("(?, ?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}`;

interface Row {
  seq: number;
  handle: string;
  function_name: string;
  unique_key: string;
  reducer: string;
  priority: number;
  when_to_run: number;
  retries: number;
  data: Uint8Array;
}

interface GearmandRow {
  unique_key: unknown;
  function_name: unknown;
  priority: unknown;
  data: unknown;
  when_to_run: unknown;
}

/** Opens `path` with the runtime's driver. */
async function openDatabase(path: string): Promise<SqlDatabase> {
  if ((globalThis as { Bun?: unknown }).Bun !== undefined) {
    const specifier = "bun:sqlite";
    const { Database } = (await import(specifier)) as BunSqliteModule;
    return new Database(path, { create: true });
  }
  const { DatabaseSync } = (await import("node:sqlite")) as unknown as NodeSqliteModule;
  return new DatabaseSync(path);
}

/** A {@link JobStore} in one SQLite file. */
export class SqliteStore implements JobStore {
  readonly name: string;
  readonly durable = true;
  readonly #path: string;
  readonly #fsync: FsyncMode;
  readonly #owner: string;
  readonly #gearmandTable: string;
  #db: SqlDatabase | undefined;
  #insert!: SqlStatement;
  #insertRows!: SqlStatement;
  readonly #args: SqlValue[] = [];
  #update!: SqlStatement;
  #delete!: SqlStatement;
  #deleteRows!: SqlStatement;
  #setCounter!: SqlStatement;
  #begin!: SqlStatement;
  #commit!: SqlStatement;
  #counter = 0;
  /** Every statement prepared, finalized on close (bun:sqlite keeps the file open until then). */
  readonly #statements: SqlStatement[] = [];

  constructor(path: string, opts: StoreOpenOptions = {}) {
    this.#path = path;
    this.name = `sqlite:${path}`;
    this.#fsync = opts.fsync ?? "os";
    this.#owner = opts.owner ?? "H:gearman-ts";
    this.#gearmandTable = opts.gearmandTable ?? "gearman_queue";
  }

  async open(): Promise<StoredQueue> {
    let db: SqlDatabase;
    try {
      db = await openDatabase(this.#path);
    } catch (err) {
      throw new StoreError(`store: cannot open sqlite database ${this.#path}: ${message(err)}`, {
        cause: err,
      });
    }
    this.#db = db;
    try {
      // One server per file: the exclusive lock (held until close, dropped by
      // the OS if the process dies) keeps a second server from replaying and
      // running the same jobs. A server still stopping gets 2 s to let go.
      db.exec("PRAGMA busy_timeout=2000");
      db.exec("PRAGMA locking_mode=EXCLUSIVE");
      db.exec("PRAGMA journal_mode=WAL");
      db.exec(`PRAGMA synchronous=${this.#fsync === "always" ? "FULL" : "NORMAL"}`);
      db.exec("BEGIN IMMEDIATE");
      db.exec("COMMIT");
      for (const sql of SCHEMA) db.exec(sql);
      this.#insert = this.#prepare(insertSql(1));
      this.#insertRows = this.#prepare(insertSql(ROWS));
      this.#update = this.#prepare("UPDATE gearman_ts_jobs SET retries = ? WHERE seq = ?");
      this.#delete = this.#prepare("DELETE FROM gearman_ts_jobs WHERE seq = ?");
      this.#deleteRows = this.#prepare(
        `DELETE FROM gearman_ts_jobs WHERE seq IN (${new Array(ROWS).fill("?").join(", ")})`,
      );
      this.#setCounter = this.#prepare(
        "INSERT OR REPLACE INTO gearman_ts_meta (key, value) VALUES ('counter', ?)",
      );
      this.#begin = this.#prepare("BEGIN");
      this.#commit = this.#prepare("COMMIT");
      const meta = this.#prepare("SELECT value FROM gearman_ts_meta WHERE key = 'counter'")
        .all() as {
          value: number;
        }[];
      this.#counter = Math.max(Number(meta[0]?.value ?? 0), this.#maxSeq());
      this.#importGearmand();
      const rows = this.#prepare(
        `SELECT seq, handle, function_name, unique_key, reducer, priority, when_to_run, retries, data
         FROM gearman_ts_jobs ORDER BY seq`,
      ).all() as Row[];
      return { jobs: rows.map(toJob), counter: this.#counter };
    } catch (err) {
      this.#db = undefined;
      this.#closeDatabase(db);
      if (err instanceof StoreError) throw err;
      if (/locked|busy/i.test(message(err))) {
        throw new StoreError(
          `store: ${this.#path} is in use by another process (another gearman-ts server?)`,
          { cause: err },
        );
      }
      throw new StoreError(`store: cannot read sqlite database ${this.#path}: ${message(err)}`, {
        cause: err,
      });
    }
  }

  commit(batch: StoreBatch): void {
    this.#transaction(() => {
      this.#deleteSeqs(batch.deletes);
      this.#insertJobs(batch.inserts);
      for (const job of batch.updates) this.#update.run(job.retries, job.seq);
      this.#saveCounter(batch.counter);
    });
  }

  replace(jobs: readonly StoredJob[], counter: number): void {
    this.#transaction(() => {
      this.#db!.exec("DELETE FROM gearman_ts_jobs");
      this.#insertJobs(jobs);
      this.#saveCounter(counter);
    });
  }

  close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    if (db !== undefined) this.#closeDatabase(db);
    return Promise.resolve();
  }

  #prepare(sql: string): SqlStatement {
    const statement = this.#db!.prepare(sql);
    this.#statements.push(statement);
    return statement;
  }

  #closeDatabase(db: SqlDatabase): void {
    for (const statement of this.#statements.splice(0)) statement.finalize?.();
    db.close();
  }

  #deleteSeqs(seqs: readonly number[]): void {
    const full = seqs.length - (seqs.length % ROWS);
    for (let i = 0; i < full; i += ROWS) this.#deleteRows.run(...seqs.slice(i, i + ROWS));
    for (let i = full; i < seqs.length; i++) this.#delete.run(seqs[i] as number);
  }

  #insertJobs(jobs: readonly StoredJob[]): void {
    const args = this.#args;
    const full = jobs.length - (jobs.length % ROWS);
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i] as StoredJob;
      args.push(
        job.seq,
        job.handle,
        job.fn.name,
        job.unique,
        job.reducer,
        job.priority,
        job.when,
        job.retries,
        job.data,
      );
      if (i < full ? (i + 1) % ROWS === 0 : true) {
        (i < full ? this.#insertRows : this.#insert).run(...args);
        args.length = 0;
      }
    }
  }

  #saveCounter(counter: number): void {
    if (counter <= this.#counter) return;
    this.#setCounter.run(counter);
    this.#counter = counter;
  }

  #maxSeq(): number {
    const rows = this.#prepare("SELECT max(seq) AS m FROM gearman_ts_jobs").all() as {
      m: number | null;
    }[];
    return Number(rows[0]?.m ?? 0);
  }

  #transaction(body: () => void): void {
    const db = this.#db;
    if (db === undefined) throw new StoreError(`store: ${this.name} is closed`);
    const before = this.#counter;
    try {
      this.#begin.run();
      body();
      this.#commit.run();
    } catch (err) {
      this.#counter = before;
      try {
        db.exec("ROLLBACK");
      } catch {
        // No transaction left to roll back (BEGIN itself failed, or COMMIT rolled back).
      }
      throw new StoreError(`store: ${this.name}: ${message(err)}`, { cause: err });
    }
  }

  /** Moves gearmand's queued rows, if its table is in this file, into ours (new handles). */
  #importGearmand(): void {
    const db = this.#db!;
    const table = this.#gearmandTable;
    const found = this.#prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?")
      .all(table);
    if (found.length === 0) return;
    const quoted = `"${table.replaceAll('"', '""')}"`;
    const rows = this.#prepare(
      `SELECT unique_key, function_name, priority, data, when_to_run FROM ${quoted} ORDER BY rowid`,
    ).all() as GearmandRow[];
    if (rows.length === 0) return;
    this.#transaction(() => {
      let seq = this.#counter;
      for (const row of rows) {
        seq++;
        const p = Number(row.priority);
        const when = Number(row.when_to_run ?? 0);
        this.#insert.run(
          seq,
          `${this.#owner}:${seq}`,
          asLatin1(row.function_name),
          asLatin1(row.unique_key),
          "",
          p === Priority.HIGH || p === Priority.LOW ? p : Priority.NORMAL,
          Number.isFinite(when) && when > 0 ? when * 1000 : 0,
          0,
          asBytes(row.data),
        );
      }
      db.exec(`DELETE FROM ${quoted}`);
      this.#saveCounter(seq);
    });
  }
}

function toJob(row: Row): StoredJob {
  const p = Number(row.priority);
  return {
    seq: Number(row.seq),
    handle: row.handle,
    fn: { name: row.function_name },
    unique: row.unique_key,
    reducer: row.reducer,
    data: row.data instanceof Uint8Array ? row.data : asBytes(row.data),
    priority: p === Priority.HIGH || p === Priority.LOW ? p : Priority.NORMAL,
    when: Number(row.when_to_run),
    retries: Number(row.retries),
  };
}

/** gearmand wrote TEXT as UTF-8; our strings are one char per byte. */
function asLatin1(value: unknown): string {
  if (value instanceof Uint8Array) return latin1(value);
  return latin1(utf8Bytes(String(value ?? "")));
}

function asBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value === null || value === undefined) return new Uint8Array(0);
  return utf8Bytes(String(value));
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
