/**
 * Where `gearman-ts server` keeps background jobs: `--store=SPEC` (gearman-ts's
 * own flag), or gearmand's `-q/--queue-type` with its module options mapped
 * onto a store spec: `-q libsqlite3 --libsqlite3-db=PATH` is `sqlite:PATH`,
 * `-q libpq --libpq-conninfo=...` (a URL or libpq's `host=... dbname=...`)
 * is a postgres:// URL, `-q builtin` is `memory`. Without either, jobs are
 * kept in `gearman-ts.db` in the working directory (`sqlite:gearman-ts.db`).
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.ts";
import { conninfoToUrl, DEFAULT_SQLITE_PATH, parseStoreSpec, StoreError } from "../store/store.ts";

/** The store-related flag values, as parsed. */
export interface StoreFlagValues {
  readonly "queue-type"?: string | undefined;
  readonly store?: string | undefined;
  readonly fsync?: string | undefined;
  readonly "store-queue-on-shutdown"?: boolean | undefined;
  readonly "libsqlite3-db"?: string | undefined;
  readonly "libsqlite3-table"?: string | undefined;
  readonly "libpq-conninfo"?: string | undefined;
  readonly "libpq-table"?: string | undefined;
}

/** What the store flags mean for `createServer`. */
export interface StoreSettings {
  /** A store spec for `ServerOptions.store`: `memory`, `sqlite:PATH` or a postgres:// URL. */
  readonly store: string;
  readonly fsync: "os" | "always" | undefined;
  readonly storeQueueOnShutdown: boolean;
  readonly notes: readonly string[];
}

const UNSUPPORTED_QUEUES =
  "libmemcached, redis, mysql, libdrizzle and tokyocabinet queues are not supported";

/**
 * Turns the store flags into settings.
 *
 * @throws {InvalidArgumentError} for an unknown queue type, a module option
 * without its `-q`, or `--store` together with a persistent `-q`.
 */
export function storeSettings(v: StoreFlagValues): StoreSettings {
  const notes: string[] = [];
  const queue = v["queue-type"]?.toLowerCase();
  let fromQueue: string | undefined;
  if (queue === undefined) {
    fromQueue = undefined;
  } else if (queue === "builtin") {
    fromQueue = "memory";
  } else if (queue === "libsqlite3" || queue === "sqlite") {
    const db = v["libsqlite3-db"];
    if (db === undefined || db === "") {
      throw new InvalidArgumentError(`-q ${v["queue-type"]} needs --libsqlite3-db=PATH`);
    }
    fromQueue = `sqlite:${db}`;
    if (v["libsqlite3-table"] !== undefined) {
      notes.push("--libsqlite3-table is ignored: gearman-ts keeps its own schema in the database");
    }
  } else if (queue === "libpq" || queue === "postgres" || queue === "postgresql") {
    const conninfo = v["libpq-conninfo"];
    if (conninfo === undefined || conninfo.trim() === "") {
      throw new InvalidArgumentError(
        `-q ${v["queue-type"]} needs --libpq-conninfo ('host=... dbname=...' or postgres://...)`,
      );
    }
    try {
      fromQueue = conninfoToUrl(conninfo);
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      throw InvalidArgumentError.format("--libpq-conninfo", err.message.replace(/^store: /, ""));
    }
    if (v["libpq-table"] !== undefined) {
      notes.push("--libpq-table is ignored: gearman-ts keeps its own schema in the database");
    }
  } else {
    throw new InvalidArgumentError(
      `queue type '${v["queue-type"]}' is not supported: use builtin, libsqlite3 or libpq ` +
        `(${UNSUPPORTED_QUEUES})`,
    );
  }
  if (v["libsqlite3-db"] !== undefined && fromQueue?.startsWith("sqlite:") !== true) {
    throw new InvalidArgumentError(
      "--libsqlite3-db needs -q libsqlite3 (or use --store=sqlite:PATH)",
    );
  }
  if (v["libpq-conninfo"] !== undefined && fromQueue?.startsWith("postgres") !== true) {
    throw new InvalidArgumentError(
      "--libpq-conninfo needs -q libpq (or use --store=postgres://...)",
    );
  }
  if (v.store !== undefined && fromQueue !== undefined) {
    throw new InvalidArgumentError(`use either --store or -q ${v["queue-type"]}, not both`);
  }
  if (v.store !== undefined) {
    try {
      parseStoreSpec(v.store);
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      throw InvalidArgumentError.format(
        "--store",
        "expected memory, sqlite:PATH or a postgres:// URL",
      );
    }
  }
  const store = v.store ?? fromQueue ?? `sqlite:${DEFAULT_SQLITE_PATH}`;
  const queueOnShutdown = v["store-queue-on-shutdown"] ?? false;
  if (queueOnShutdown && parseStoreSpec(store).kind === "memory") {
    throw new InvalidArgumentError(
      "--store-queue-on-shutdown needs a store that is not memory: --store=sqlite:PATH or -q libsqlite3",
    );
  }
  const fsync = v.fsync;
  if (fsync !== undefined && fsync !== "os" && fsync !== "always") {
    throw InvalidArgumentError.format("--fsync", `expected os or always, got '${fsync}'`);
  }
  return {
    store,
    fsync,
    storeQueueOnShutdown: queueOnShutdown,
    notes,
  };
}
