/**
 * The persistence seam for background jobs (PROTOCOL.md §13). Foreground
 * jobs never reach a store; background jobs are written when they are
 * submitted and deleted when they end, in group commits driven by
 * {@link GroupCommit}. Adapters (`memory_store.ts`, `sqlite_store.ts`,
 * `postgres_store.ts`) are the only code here that touches a runtime.
 *
 * @module
 */
import { GearmanError } from "../errors.ts";
import type { Priority } from "../protocol/constants.ts";

/**
 * One background job as a store keeps it. The server's `Job` has this shape,
 * so commits pass live jobs without copying them. Strings are latin1 (one
 * char per byte), as everywhere in the server.
 */
export interface StoredJob {
  /** The job handle's counter value; unique per store owner, creation order. */
  readonly seq: number;
  readonly handle: string;
  readonly fn: { readonly name: string };
  readonly unique: string;
  readonly reducer: string;
  readonly data: Uint8Array;
  readonly priority: Priority;
  /** Run-at time in epoch milliseconds; 0 = now. */
  readonly when: number;
  /** Attempts that ended with the worker gone (PROTOCOL.md §7.2). */
  readonly retries: number;
}

/** What a store holds when it is opened. */
export interface StoredQueue {
  /** The queued background jobs, oldest first. */
  readonly jobs: readonly StoredJob[];
  /** The highest handle counter ever committed, so new handles continue after it. */
  readonly counter: number;
}

/**
 * One group commit. A store applies it in one transaction, in this order:
 * deletes, inserts, retry updates, then the handle counter. Deletes go first
 * so that a job cancelled and submitted again within one group keeps its
 * row; a job inserted and then forgotten within one group is left out of
 * `inserts` by {@link GroupCommit}.
 */
export interface StoreBatch {
  readonly inserts: readonly StoredJob[];
  /** Jobs whose `retries` changed. */
  readonly updates: readonly StoredJob[];
  /** `seq` of the rows to delete. */
  readonly deletes: readonly number[];
  /** The handle counter's high-water mark at the time of the commit. */
  readonly counter: number;
}

/** How hard a commit pushes to disk. */
export type FsyncMode = "os" | "always";

/** A place to keep background jobs. */
export interface JobStore {
  /** For logs, without secrets: `memory`, `sqlite:/var/lib/x.db`, `postgres://host/db`. */
  readonly name: string;
  /** False for the memory store: nothing is kept and no commit is awaited. */
  readonly durable: boolean;
  /** Creates the schema if needed and reads the stored queue. */
  open(): Promise<StoredQueue>;
  /** Applies one group commit in one transaction; throws (or rejects) when it did not. */
  commit(batch: StoreBatch): void | Promise<void>;
  /** Replaces the whole stored queue (`--store-queue-on-shutdown`). */
  replace(jobs: readonly StoredJob[], counter: number): void | Promise<void>;
  close(): Promise<void>;
}

/** A store could not be opened, read or written. */
export class StoreError extends GearmanError {
  constructor(message: string, options?: ErrorOptions) {
    super("STORE", message, options);
    this.name = "StoreError";
  }
}

/** How to build a store from a spec string. */
export interface StoreOpenOptions {
  /** `--fsync`: "os" (default) survives a crash of the server, "always" a power loss. */
  readonly fsync?: FsyncMode;
  /** The server's name in a shared database: its rows carry it (default `H:gearman-ts`). */
  readonly owner?: string;
  /** gearmand's sqlite table to import from on open (default `gearman_queue`). */
  readonly gearmandTable?: string;
}

/** A parsed `--store` value. */
export type StoreSpec =
  | { readonly kind: "memory" }
  | { readonly kind: "sqlite"; readonly path: string }
  | { readonly kind: "postgres"; readonly url: string };

/** The file the CLI keeps its queue in when no store is named. */
export const DEFAULT_SQLITE_PATH = "gearman-ts.db";

/**
 * Parses a `--store` value: `memory`, `sqlite` (the default file),
 * `sqlite:PATH`, or a `postgres://` / `postgresql://` URL.
 *
 * @throws {StoreError} for anything else
 */
export function parseStoreSpec(spec: string): StoreSpec {
  if (spec === "memory" || spec === "builtin") return { kind: "memory" };
  if (spec === "sqlite") return { kind: "sqlite", path: DEFAULT_SQLITE_PATH };
  if (spec.startsWith("sqlite:")) {
    const path = spec.slice(7);
    if (path === "") {
      throw new StoreError("store: sqlite: needs a path, as in sqlite:/var/lib/gearman-ts.db");
    }
    return { kind: "sqlite", path };
  }
  if (/^postgres(ql)?:\/\//.test(spec)) return { kind: "postgres", url: spec };
  throw new StoreError(
    `store: expected memory, sqlite:PATH or postgres://..., got '${spec}'`,
  );
}

/**
 * Builds the store a spec names. The SQLite and PostgreSQL adapters are
 * imported only when asked for, so the `postgres` package is needed only by
 * servers that use it.
 */
export async function createStore(
  spec: string | StoreSpec,
  opts: StoreOpenOptions = {},
): Promise<JobStore> {
  const parsed = typeof spec === "string" ? parseStoreSpec(spec) : spec;
  switch (parsed.kind) {
    case "memory": {
      const { MemoryStore } = await import("./memory_store.ts");
      return new MemoryStore();
    }
    case "sqlite": {
      const { SqliteStore } = await import("./sqlite_store.ts");
      return new SqliteStore(parsed.path, opts);
    }
    case "postgres": {
      const { PostgresStore } = await import("./postgres_store.ts");
      return new PostgresStore(parsed.url, opts);
    }
  }
}

/**
 * Turns a libpq conninfo string (`host=db port=5432 dbname=gearman user=g
 * password='a b'`, gearmand's `--libpq-conninfo`) into a postgres:// URL. A
 * value that already is a URL is returned as it is.
 *
 * @throws {StoreError} when the string is not keyword=value pairs
 */
export function conninfoToUrl(conninfo: string): string {
  const text = conninfo.trim();
  if (/^postgres(ql)?:\/\//.test(text)) return text;
  const pairs = new Map<string, string>();
  const re = /\s*([A-Za-z_]+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S*))/y;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (m === null) {
      throw new StoreError(`store: cannot parse libpq conninfo near '${text.slice(at, at + 20)}'`);
    }
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3] ?? "";
    pairs.set((m[1] as string).toLowerCase(), value);
    at = re.lastIndex;
    while (at < text.length && /\s/.test(text[at] as string)) at++;
  }
  const enc = encodeURIComponent;
  const user = pairs.get("user");
  const password = pairs.get("password");
  const auth = user === undefined
    ? ""
    : `${enc(user)}${password === undefined ? "" : `:${enc(password)}`}@`;
  const host = pairs.get("host") ?? pairs.get("hostaddr") ?? "localhost";
  const port = pairs.get("port");
  const db = pairs.get("dbname") ?? "";
  return `postgres://${auth}${host.includes(":") ? `[${host}]` : host}${port ? `:${port}` : ""}/${
    enc(db)
  }`;
}
