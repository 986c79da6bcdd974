/**
 * A fixture for end-to-end tests of our client, worker and admin client
 * against one server (ours or gearmand): the server is started in `before()`,
 * and every client, worker and process made through the fixture is closed or
 * killed in `after()`, each step bounded.
 */
import { after, before } from "node:test";
import {
  type AdminClient,
  type ClientOptions,
  createAdminClient,
  createClient,
  createWorker,
  type ForegroundJob,
  type GearmanClient,
  type GearmanWorker,
  type JobEvent,
  type WorkerOptions,
} from "../../mod.ts";
import { Procs, startGearmand, startGearmanTs, type Target, withTimeout } from "../_helpers.ts";
import { whyNoGearmand } from "./_peers.ts";

/** Every test gives up after this long; a whole file takes well under 60 s. */
export const TEST_TIMEOUT = 15_000;

/** The two servers every group runs against. */
export const SERVERS: readonly {
  readonly kind: Target["kind"];
  readonly start: () => Promise<Target>;
  readonly skip: string | false;
}[] = [
  { kind: "gearman-ts", start: () => startGearmanTs(), skip: false },
  { kind: "gearmand", start: () => startGearmand(), skip: whyNoGearmand() },
];

/** The first reason that applies, or false. */
export function skipIf(...reasons: (string | false)[]): string | false {
  return reasons.find((r) => r !== false) ?? false;
}

export const reverse = (s: string): string => [...s].reverse().join("");

/** One server and everything a test group made on it. */
export interface Fixture {
  /** The server; valid once `before()` ran. */
  target(): Target;
  /** `127.0.0.1:PORT` of the server. */
  servers(): string;
  /** Processes the group starts; killed in `after()`. */
  readonly procs: Procs;
  /** A client of the server, closed in `after()`. */
  client(opts?: Omit<ClientOptions, "servers">): GearmanClient;
  /** A worker of the server (not started), stopped in `after()`. */
  worker(opts?: Omit<WorkerOptions, "servers">): GearmanWorker;
  /** An admin client of the server, closed in `after()`. */
  admin(): AdminClient;
  /** Runs `fn` in `after()`, before whatever was made earlier is closed. */
  defer(fn: () => unknown): void;
}

/** Registers `before()`/`after()` hooks that start a server with `start` and tear it all down. */
export function useServer(start: () => Promise<Target>): Fixture {
  let target: Target | undefined;
  const procs = new Procs();
  const closers: (() => unknown)[] = [];
  before(async () => {
    target = await start();
  });
  after(async () => {
    for (const close of closers.splice(0).reverse()) {
      await withTimeout(Promise.resolve().then(close), 5000, "a client or worker to close")
        .catch(() => {});
    }
    await procs.killAll();
    await target?.close();
  });
  const fixture: Fixture = {
    target: () => {
      if (target === undefined) throw new Error("server not started");
      return target;
    },
    servers: () => `${fixture.target().host}:${fixture.target().port}`,
    procs,
    client: (opts = {}) => {
      const c = createClient({ ...opts, servers: fixture.servers() });
      closers.push(() => c.close());
      return c;
    },
    worker: (opts = {}) => {
      const w = createWorker({ ...opts, servers: fixture.servers() });
      closers.push(() => w.stop());
      return w;
    },
    admin: () => {
      const a = createAdminClient({ server: fixture.servers() });
      closers.push(() => a.close());
      return a;
    },
    defer: (fn) => void closers.push(fn),
  };
  return fixture;
}

/** A latch a job handler waits on; `open()` is idempotent. The wait gives up after 10 s. */
export interface Gate {
  open(): void;
  /** Resolves once opened; rejects after 10 s so a handler never hangs a worker's stop(). */
  wait(): Promise<void>;
}

export function gate(): Gate {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, wait: () => withTimeout(opened, 10_000, "a test gate to open") };
}

const decoder = new TextDecoder();

/** Bytes as UTF-8 text. */
export function text(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** An event as a short tuple: `["data", "d1"]`, `["status", 1, 3]`. */
export function eventTuple(e: JobEvent): (string | number)[] {
  return e.type === "status" ? [e.type, e.numerator, e.denominator] : [e.type, text(e.data)];
}

/** A job's events (as tuples) and its result text, within `ms`. */
export async function eventsAndResult(
  job: ForegroundJob,
  ms = 5000,
): Promise<{ events: (string | number)[][]; result: string }> {
  const events: (string | number)[][] = [];
  await withTimeout(
    (async () => {
      for await (const e of job) events.push(eventTuple(e));
    })(),
    ms,
    `the events of a ${job.function} job`,
  );
  return { events, result: (await job).text() };
}

/** A job's result text, within `ms`. */
export async function resultOf(job: ForegroundJob, ms = 5000): Promise<string> {
  return (await withTimeout(Promise.resolve(job), ms, `a ${job.function} job to finish`)).text();
}

/** The error a job rejects with, within `ms`; fails if it succeeds. */
export async function errorOf(job: ForegroundJob, ms = 5000): Promise<unknown> {
  let result: string;
  try {
    result = (await withTimeout(Promise.resolve(job), ms, `a ${job.function} job to fail`)).text();
  } catch (err) {
    return err;
  }
  throw new Error(`the ${job.function} job succeeded with ${JSON.stringify(result)}`);
}
