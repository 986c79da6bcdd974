// Helpers for the store tests: temporary database files, a store wrapper that
// fails or holds commits on demand (an injected dependency, like the clock and
// the Net elsewhere), and where to find PostgreSQL.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { connect } from "node:net";
import { PacketType } from "../../src/protocol/constants.ts";
import { SqliteStore } from "../../src/store/sqlite_store.ts";
import type { JobStore, StoreBatch, StoredJob, StoredQueue } from "../../src/store/store.ts";
import type { RawClient } from "../_raw_client.ts";

/** A fresh directory under the system temp dir; `remove()` deletes it. */
export function tempDir(
  prefix = "gearman-ts-store-",
): { path: string; file(name: string): string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    file: (name) => join(path, name),
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

/**
 * Wraps a real store. `failing` makes every commit throw, as a full disk or a
 * dead database would; `hold()` keeps the next commits waiting until
 * `release()`, so a test can see what joins a group while one is in flight.
 */
export class ControlledStore implements JobStore {
  readonly inner: JobStore;
  readonly batches: StoreBatch[] = [];
  failing = false;
  #held: (() => void)[] | undefined;

  constructor(inner: JobStore) {
    this.inner = inner;
  }

  get name(): string {
    return `controlled ${this.inner.name}`;
  }
  get durable(): boolean {
    return this.inner.durable;
  }

  open(): Promise<StoredQueue> {
    return this.inner.open();
  }

  commit(batch: StoreBatch): void | Promise<void> {
    // Copies: the committer hands its arrays over, but the jobs are live.
    this.batches.push({
      inserts: [...batch.inserts],
      updates: [...batch.updates],
      deletes: [...batch.deletes],
      counter: batch.counter,
    });
    const run = () => {
      if (this.failing) throw new Error("disk full (test)");
      return this.inner.commit(batch);
    };
    if (this.#held === undefined) return run();
    return new Promise<void>((resolve) => this.#held!.push(resolve)).then(run);
  }

  replace(jobs: readonly StoredJob[], counter: number): void | Promise<void> {
    return this.inner.replace(jobs, counter);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** Commits from now on wait for {@link release}. */
  hold(): void {
    this.#held ??= [];
  }

  /** Lets every held commit go, and stops holding. */
  release(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const go of held) go();
  }
}

/** The PostgreSQL the tests use: `GEARMAN_TS_PG_URL`, or the one `.ci/run` starts. */
export const PG_URL = process.env.GEARMAN_TS_PG_URL ??
  "postgres://gearman:gearman@127.0.0.1:5432/gearman";

/** Why the PostgreSQL tests cannot run here, or undefined when they can. */
export async function postgresUnavailable(): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(PG_URL);
  } catch {
    return `GEARMAN_TS_PG_URL is not a URL: ${PG_URL}`;
  }
  const port = Number(url.port || 5432);
  const host = url.hostname;
  const open = await new Promise<boolean>((resolve) => {
    const sock = connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1000);
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
  if (!open) {
    return `no PostgreSQL listening on ${host}:${port} (set GEARMAN_TS_PG_URL or run .ci/run)`;
  }
  try {
    const { default: postgres } = await import("postgres");
    const sql = postgres(PG_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
    try {
      await sql`SELECT 1`;
    } finally {
      await sql.end({ timeout: 1 });
    }
  } catch (err) {
    return `PostgreSQL at ${host}:${port} refused us: ${
      err instanceof Error ? err.message : String(err)
    }`;
  }
  return undefined;
}

/** A store owner (job handle prefix) no other test run uses. */
export function uniqueOwner(tag: string): string {
  return `H:${tag}-${process.pid}-${Date.now().toString(36)}`;
}

/** Runs SQL against the test database (for checks and clean-up). */
export async function withPostgres<T>(body: (sql: PgSql) => Promise<T>): Promise<T> {
  const { default: postgres } = await import("postgres");
  const sql = postgres(PG_URL, {
    max: 1,
    connect_timeout: 3,
    onnotice: () => {},
  }) as unknown as PgSql;
  try {
    return await body(sql);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** The part of postgres.js the tests use. */
export interface PgSql {
  // deno-lint-ignore no-explicit-any
  (strings: TemplateStringsArray, ...values: unknown[]): Promise<any[]>;
  end(options?: { timeout?: number }): Promise<void>;
}

/** The rows a (closed) server left in its SQLite file. */
export async function sqliteRows(path: string): Promise<readonly StoredJob[]> {
  const store = new SqliteStore(path);
  const { jobs } = await store.open();
  await store.close();
  return jobs;
}

/** The handle of the next JOB_CREATED on `c`. */
export async function handleOf(c: RawClient): Promise<string> {
  return (await c.expect(PacketType.JOB_CREATED)).args[0] as string;
}

/** An echo round trip on `c`: the server has answered everything sent before. */
export async function sync(c: RawClient): Promise<void> {
  c.send(PacketType.ECHO_REQ, ["sync"]);
  await c.expect(PacketType.ECHO_RES);
}
