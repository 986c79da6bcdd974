/**
 * What the workloads of one benchmark run share: where to connect, the
 * functions and payload, the unique-id counter, and {@link Bound}, which
 * ends a workload by its job count, its time limit or an abort.
 *
 * @module
 */
import type { Addr, Net } from "../net/net.ts";
import { Peer } from "./peer.ts";
import type { OnPacket } from "./peer.ts";

/** Why a workload ended. */
export type StopReason = "jobs" | "seconds" | "aborted" | "failed";

/** Shared state of one run. */
export interface Ctx {
  readonly net: Net;
  readonly addrs: readonly Addr[];
  /** The benchmark's function names; jobs go to them round-robin. */
  readonly fns: readonly string[];
  readonly payload: Uint8Array;
  /** Unique id base (see `uniqueBase`), or "" for jobs without one. */
  readonly unique: string;
  readonly signal: AbortSignal | undefined;
  /** Every peer opened, so the run can close what a failed workload left open. */
  readonly peers: Set<Peer>;
  /** Next unique-id counter, shared by all connections of the run. */
  counter: number;
  /** Monotonic milliseconds. */
  now(): number;
  /** Updated by the running workload; read by the progress reporter. */
  progress: { workload: string; jobs: number; since: number };
}

/** Opens a peer that the run will close at its end (also when a workload fails). */
export async function openPeer(
  ctx: Ctx,
  addr: Addr,
  onPacket: OnPacket,
  onDead?: () => void,
): Promise<Peer> {
  const peer = await Peer.open(ctx.net, addr, onPacket, onDead);
  ctx.peers.add(peer);
  return peer;
}

/** Closes `peers` and forgets them. */
export async function release(ctx: Ctx, peers: readonly Peer[]): Promise<void> {
  await Promise.all(peers.map((p) => p.close().catch(() => {})));
  for (const p of peers) ctx.peers.delete(p);
}

/**
 * Ends a workload: `stop()` says no more jobs may start (at the time limit,
 * on abort, when a connection dies); `finish()` says the workload is over.
 * Once stopped, a workload still waits for its jobs in flight (until `idle()`
 * holds, which the workload checks as replies come in), but never longer
 * than `graceMs`.
 */
export class Bound {
  stopped = false;
  reason: StopReason = "jobs";
  /** `ctx.now()` when stop() was first called. */
  stoppedAt = 0;
  readonly done: Promise<void>;
  #finish!: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #grace: ReturnType<typeof setTimeout> | undefined;
  readonly #graceMs: number;
  readonly #ctx: Ctx;
  readonly #idle: () => boolean;
  readonly #onAbort = () => this.stop("aborted");

  constructor(ctx: Ctx, seconds: number, idle: () => boolean, graceMs = 5000) {
    this.#ctx = ctx;
    this.#idle = idle;
    this.#graceMs = graceMs;
    this.done = new Promise<void>((resolve) => (this.#finish = resolve));
    this.#timer = setTimeout(() => this.stop("seconds"), seconds * 1000);
    if (ctx.signal?.aborted) this.stop("aborted");
    ctx.signal?.addEventListener("abort", this.#onAbort);
  }

  /** No more jobs start; `finish()` follows once the jobs in flight are in, or after the grace period. */
  stop(reason: StopReason): void {
    if (this.stopped) return;
    this.stopped = true;
    this.reason = reason;
    this.stoppedAt = this.#ctx.now();
    clearTimeout(this.#timer);
    if (this.#idle()) this.finish();
    else this.#grace = setTimeout(() => this.finish(), this.#graceMs);
  }

  /** Resolves as `p` does; when `p` rejects, the workload is over (no timer is left behind). */
  async guard<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err: unknown) {
      this.finish();
      throw err;
    }
  }

  /** The workload is over. */
  finish(): void {
    clearTimeout(this.#timer);
    clearTimeout(this.#grace);
    this.#ctx.signal?.removeEventListener("abort", this.#onAbort);
    this.#finish();
  }
}

/** Latency percentiles, in microseconds. */
export interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

/** Round-trip times in milliseconds, kept in a growing Float64Array. */
export class Samples {
  #v = new Float64Array(1 << 16);
  count = 0;

  add(ms: number): void {
    if (this.count === this.#v.length) {
      const next = new Float64Array(this.#v.length * 2);
      next.set(this.#v);
      this.#v = next;
    }
    this.#v[this.count++] = ms;
  }

  /** Nearest-rank percentiles, as gearbench computes them; all 0 when empty. */
  summary(): Latency {
    const v = this.#v.subarray(0, this.count).sort();
    const n = v.length;
    const at = (p: number) => (n === 0 ? 0 : (v[Math.round(p * (n - 1))] ?? 0) * 1000);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += v[i] ?? 0;
    return {
      p50: at(0.5),
      p99: at(0.99),
      p999: at(0.999),
      max: at(1),
      mean: n === 0 ? 0 : (sum / n) * 1000,
    };
  }
}
