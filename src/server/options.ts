import type { Net } from "../net/net.ts";
import type { Logger } from "../log.ts";
import type { FsyncMode, JobStore } from "../store/store.ts";

/** Settings of a gearman-ts job server; every field has gearmand's default. */
export interface ServerOptions {
  /** Socket implementation; defaults to the current runtime's. */
  readonly net?: Net;
  /** Addresses to listen on (`-L`); default `["127.0.0.1"]`, loopback only. */
  readonly listen?: readonly string[];
  /** Port (`-p`), default 4730; 0 picks a free one. */
  readonly port?: number;
  /** `-j`: attempts a job gets in all before waiting clients get WORK_FAIL; 0 = unlimited. */
  readonly jobRetries?: number;
  /** `-w`: most sleeping workers woken per job; 0 = as many as there are runnable jobs. */
  readonly workerWakeup?: number;
  /**
   * `--grab-wait`: milliseconds a worker's grab that finds no job waits for
   * one before NO_JOB (default 1). A job arriving meanwhile goes straight to
   * the worker, saving the NO_JOB, PRE_SLEEP, NOOP, GRAB_JOB exchange; 0
   * answers NO_JOB at once, as gearmand does.
   */
  readonly grabWait?: number;
  /**
   * `--created-wait`: milliseconds the JOB_CREATED of a new foreground job
   * may wait (default 1), so that a short job's JOB_CREATED and result reach
   * the client in one write; anything else for the client ends the wait
   * first. 0 sends JOB_CREATED at once, as gearmand does.
   */
  readonly createdWait?: number;
  /** `--job-handle-prefix`; default `H:<hostname>`. */
  readonly jobHandlePrefix?: string;
  /** `--exceptions`: forward WORK_EXCEPTION to every client. */
  readonly exceptions?: boolean;
  /** Largest packet payload accepted, checked from the header (default 64 MiB). */
  readonly maxPacketSize?: number;
  /** `-b`: listen backlog (default 1024). */
  readonly backlog?: number;
  /** `--keepalive`: TCP keepalive on accepted sockets. */
  readonly keepalive?: boolean;
  /** Where log lines go (default: silent). */
  readonly logger?: Logger;
  /** Process id reported by `getpid` (default: none known, 0). */
  readonly pid?: number;
  /** Milliseconds clock; injectable for tests. */
  readonly now?: () => number;
  /**
   * Where background jobs are kept (PROTOCOL.md §13): `"memory"` (gearmand's
   * `builtin`, the default here), `"sqlite:PATH"`, a `postgres://` URL, or a
   * {@link JobStore}. With a durable store, JOB_CREATED for a background job
   * is sent once the job is committed, and a restart replays the queue with
   * the same handles. (`gearman-ts server` defaults to `sqlite:gearman-ts.db`.)
   */
  readonly store?: string | JobStore;
  /** `--fsync`: `"os"` (default) survives a crash of the server, `"always"` a power loss. */
  readonly fsync?: FsyncMode;
  /**
   * `--store-queue-on-shutdown`: write the queue to the store only when the
   * server stops, and replay it at start; nothing is written per job, so a
   * crash loses what was queued since the last clean stop.
   */
  readonly storeQueueOnShutdown?: boolean;
}

/** The default Gearman port. */
export const DEFAULT_PORT = 4730;
/** How long a worker's empty grab waits for a job by default (`--grab-wait`), in ms. */
export const DEFAULT_GRAB_WAIT_MS = 1;
/** How long a foreground JOB_CREATED may wait for the result by default (`--created-wait`), in ms. */
export const DEFAULT_CREATED_WAIT_MS = 1;
/** The default largest packet payload: 64 MiB. */
export const DEFAULT_MAX_PACKET_SIZE = 64 * 1024 * 1024;
