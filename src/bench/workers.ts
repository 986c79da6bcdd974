/**
 * Benchmark workers and idle connections on raw peers. A worker behaves as
 * libgearman's does: CAN_DO, then GRAB_JOB_UNIQ; on JOB_ASSIGN_UNIQ it
 * answers WORK_COMPLETE with the job's data (an echo, as gearbench's
 * workers do) and grabs again in the same write; on NO_JOB it sends
 * PRE_SLEEP and waits for NOOP (PROTOCOL.md §4).
 *
 * @module
 */
import { TimeoutError } from "../errors.ts";
import { PacketType as T } from "../protocol/constants.ts";
import { encodeRequest } from "../protocol/encoder.ts";
import { type Ctx, openPeer, release } from "./context.ts";
import type { Peer } from "./peer.ts";
import { GRAB_JOB_UNIQ, PRE_SLEEP } from "./wire.ts";

const ECHO_READY = encodeRequest(T.ECHO_REQ, ["ready"]);
const READY_TIMEOUT_MS = 15_000;
/** Connections opened at once by {@link openIdle}. */
const CONNECT_WAVE = 256;

/** W workers, each connected to every server. */
export interface WorkerPool {
  readonly peers: readonly Peer[];
  /** Jobs completed so far. */
  readonly done: () => number;
  /** Failures: ERROR packets, bad frames, closed connections. */
  readonly errors: () => number;
  close(): Promise<void>;
}

/**
 * Connects `count` workers to every server for `fns` and resolves once the
 * servers have taken every registration (an ECHO round trip). `onJob` runs
 * after each job is answered; `onDead` when a connection drops.
 */
export async function startWorkers(
  ctx: Ctx,
  count: number,
  fns: readonly string[],
  onJob: () => void,
  onDead: () => void,
): Promise<WorkerPool> {
  const register = fns.map((fn) => encodeRequest(T.CAN_DO, [fn]));
  let done = 0;
  const opened = await Promise.all(
    Array.from({ length: count * ctx.addrs.length }, async (_, i) => {
      let grabbing = true;
      let ready!: () => void;
      const readyP = new Promise<void>((resolve) => (ready = resolve));
      const onPacket = (peer: Peer, type: number, args: Uint8Array[]) => {
        switch (type) {
          case T.JOB_ASSIGN_UNIQ: // handle, function, unique, data
          case T.JOB_ASSIGN: // handle, function, data
            peer.putPacket2(
              T.WORK_COMPLETE,
              args[0] as Uint8Array,
              args[args.length - 1] as Uint8Array,
            );
            peer.put(GRAB_JOB_UNIQ);
            done++;
            onJob();
            break;
          case T.NO_JOB:
            grabbing = false;
            peer.put(PRE_SLEEP);
            break;
          case T.NOOP:
            // Only a sleeping worker is woken; one already grabbing will be answered anyway.
            if (!grabbing) {
              grabbing = true;
              peer.put(GRAB_JOB_UNIQ);
            }
            break;
          case T.ECHO_RES:
            ready();
            break;
          default:
            peer.errors++;
        }
      };
      const peer = await openPeer(ctx, ctx.addrs[i % ctx.addrs.length]!, onPacket, onDead);
      for (const p of register) peer.put(p);
      peer.put(ECHO_READY);
      peer.put(GRAB_JOB_UNIQ);
      peer.flush();
      return { peer, ready: readyP };
    }),
  );
  const peers = opened.map((o) => o.peer);
  try {
    await withTimeout(Promise.all(opened.map((o) => o.ready)), "workers to register");
  } catch (err: unknown) {
    await release(ctx, peers);
    throw err;
  }
  return {
    peers,
    done: () => done,
    errors: () => peers.reduce((n, p) => n + p.errors, 0),
    close: () => release(ctx, peers),
  };
}

/**
 * Opens `count` idle connections, spread over the servers: each registers
 * as a worker for `fn` (which no job uses) and sleeps. Resolves with them
 * once the servers have acknowledged them all; they answer a stray NOOP as
 * a worker would.
 */
export async function openIdle(ctx: Ctx, count: number, fn: string): Promise<Peer[]> {
  const hello = [encodeRequest(T.CAN_DO, [fn]), PRE_SLEEP, ECHO_READY];
  const peers: Peer[] = [];
  try {
    for (let first = 0; first < count; first += CONNECT_WAVE) {
      const wave = Array.from({ length: Math.min(CONNECT_WAVE, count - first) }, async (_, k) => {
        let ready!: () => void;
        const readyP = new Promise<void>((resolve) => (ready = resolve));
        const onPacket = (peer: Peer, type: number) => {
          if (type === T.ECHO_RES) ready();
          else if (type === T.NOOP) peer.put(GRAB_JOB_UNIQ);
          else if (type === T.NO_JOB) peer.put(PRE_SLEEP);
          else peer.errors++;
        };
        const peer = await openPeer(ctx, ctx.addrs[(first + k) % ctx.addrs.length]!, onPacket);
        peers.push(peer);
        for (const p of hello) peer.put(p);
        peer.flush();
        await readyP;
      });
      await withTimeout(Promise.all(wave), "idle connections to be acknowledged");
    }
  } catch (err: unknown) {
    await release(ctx, peers);
    throw err;
  }
  return peers;
}

async function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TimeoutError(`bench: waited ${READY_TIMEOUT_MS} ms for ${what}`)),
      READY_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
