/**
 * Where `gearman-ts server` keeps background jobs: `--store=SPEC` (gearman-ts's
 * own flag), or gearmand's `-q/--queue-type` with its module options mapped
 * onto a store spec: `-q libsqlite3 --libsqlite3-db=PATH` is `sqlite:PATH`,
 * `-q libpq --libpq-conninfo=postgres://...` is that URL. Without either,
 * jobs live in memory, like gearmand's `-q builtin`.
 *
 * @module
 */
import { InvalidArgumentError } from "../errors.ts";

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
  /** A store spec for `ServerOptions.store`; undefined keeps jobs in memory. */
  readonly store: string | undefined;
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
  if (queue === undefined || queue === "builtin") {
    fromQueue = undefined;
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
    const url = v["libpq-conninfo"];
    if (url === undefined || !/^postgres(ql)?:\/\//.test(url)) {
      throw new InvalidArgumentError(
        `-q ${v["queue-type"]} needs --libpq-conninfo=postgres://user:password@host/db (a URL)`,
      );
    }
    fromQueue = url;
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
  if (v["libpq-conninfo"] !== undefined && fromQueue === undefined) {
    throw new InvalidArgumentError(
      "--libpq-conninfo needs -q libpq (or use --store=postgres://...)",
    );
  }
  if (v.store !== undefined && fromQueue !== undefined) {
    throw new InvalidArgumentError(`use either --store or -q ${v["queue-type"]}, not both`);
  }
  if (v.store === "") {
    throw InvalidArgumentError.format(
      "--store",
      "expected memory, sqlite:PATH or a postgres:// URL",
    );
  }
  const queueOnShutdown = v["store-queue-on-shutdown"] ?? false;
  if (queueOnShutdown && (v.store ?? fromQueue) === undefined) {
    throw new InvalidArgumentError(
      "--store-queue-on-shutdown needs a store: --store=sqlite:PATH or -q libsqlite3",
    );
  }
  const fsync = v.fsync;
  if (fsync !== undefined && fsync !== "os" && fsync !== "always") {
    throw InvalidArgumentError.format("--fsync", `expected os or always, got '${fsync}'`);
  }
  return {
    store: v.store ?? fromQueue,
    fsync,
    storeQueueOnShutdown: queueOnShutdown,
    notes,
  };
}
