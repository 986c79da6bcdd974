/**
 * The three measured workloads: pipelined background submits, the drain of
 * a backlog by W workers, and foreground round trips by C clients with W
 * workers. Each is bounded by a job count and a time limit.
 *
 * @module
 */
import { PacketType as T } from "../protocol/constants.ts";
import type { WorkloadResult } from "./bench.ts";
import { Bound, type Ctx, openPeer, release, Samples } from "./context.ts";
import type { Peer } from "./peer.ts";
import { startWorkers } from "./workers.ts";
import { putSubmit, submitTemplate } from "./wire.ts";

/** Bytes in flight per submitting connection, whatever the pipeline depth. */
const MAX_INFLIGHT_BYTES = 8 * 1024 * 1024;

const sumErrors = (peers: readonly Peer[]) => peers.reduce((n, p) => n + p.errors, 0);

/**
 * SUBMIT_JOB_BG on `connections` connections, keeping up to `pipeline`
 * submits in flight on each: every JOB_CREATED lets one more go, and the
 * submits a chunk of replies releases go out in one write.
 */
export async function runSubmit(
  ctx: Ctx,
  o: { connections: number; pipeline: number; jobs: number; seconds: number },
): Promise<WorkloadResult> {
  const tpls = ctx.fns.map((fn) => submitTemplate(T.SUBMIT_JOB_BG, fn, ctx.unique, ctx.payload));
  const window = Math.max(
    1,
    Math.min(o.pipeline, Math.floor(MAX_INFLIGHT_BYTES / (ctx.payload.length + 64))),
  );
  const t0 = ctx.now();
  let sent = 0, answered = 0, created = 0, errors = 0, lastAt = t0, inflight = 0;
  const bound = new Bound(ctx, o.seconds, () => inflight === 0);
  const send = (peer: Peer, lane: { inflight: number }) => {
    while (!bound.stopped && sent < o.jobs && lane.inflight < window) {
      putSubmit(peer, tpls[sent % tpls.length]!, ctx.counter++);
      sent++;
      lane.inflight++;
      inflight++;
    }
  };
  const peers = await bound.guard(Promise.all(Array.from({ length: o.connections }, (_, i) => {
    const lane = { inflight: 0 };
    const onPacket = (peer: Peer, type: number) => {
      if (type === T.JOB_CREATED) created++;
      else if (type === T.ERROR) errors++;
      else return void peer.errors++;
      lane.inflight--;
      inflight--;
      answered++;
      lastAt = ctx.now();
      ctx.progress.jobs = created;
      if (answered === o.jobs) bound.finish();
      else if (bound.stopped && inflight === 0) bound.finish();
      else send(peer, lane);
    };
    return openPeer(ctx, ctx.addrs[i % ctx.addrs.length]!, onPacket, () => bound.stop("failed"))
      .then((peer) => {
        send(peer, lane);
        peer.flush();
        return peer;
      });
  })));
  if (o.jobs === 0) bound.finish();
  await bound.done;
  // Jobs answered after a stop (in the grace period) count, and so does their time.
  await release(ctx, peers);
  // Submits never answered (the grace period ran out) count as errors.
  return result(
    "submit",
    created,
    lastAt - t0,
    errors + inflight + sumErrors(peers),
    bound,
    o.connections,
    0,
  );
}

/** W workers take `jobs` queued jobs (the backlog); the clock runs from their connect to the last job. */
export async function runDrain(
  ctx: Ctx,
  o: { workers: number; jobs: number; seconds: number },
): Promise<WorkloadResult> {
  const t0 = ctx.now();
  const bound = new Bound(ctx, o.seconds, () => true);
  let lastAt = t0, done = 0;
  const onJob = () => {
    ctx.progress.jobs = ++done;
    lastAt = ctx.now();
    if (done === o.jobs) bound.finish();
  };
  const pool = await bound.guard(
    startWorkers(ctx, o.workers, ctx.fns, onJob, () => bound.stop("failed")),
  );
  if (o.jobs === 0) bound.finish();
  await bound.done;
  const counted = Math.min(done, o.jobs);
  const end = bound.stopped ? bound.stoppedAt : lastAt;
  await pool.close();
  return result("drain", counted, end - t0, pool.errors(), bound, o.workers, o.workers);
}

/**
 * C clients each run one SUBMIT_JOB at a time, as `gearman_client_do` does,
 * against W workers. Jobs started in the first `warmup` seconds are not
 * counted; then up to `jobs` round trips are timed from the submit to
 * WORK_COMPLETE, for at most `seconds`.
 */
export async function runRoundtrip(
  ctx: Ctx,
  o: { clients: number; workers: number; jobs: number; seconds: number; warmup: number },
): Promise<WorkloadResult> {
  const tpls = ctx.fns.map((fn) => submitTemplate(T.SUBMIT_JOB, fn, ctx.unique, ctx.payload));
  const size = ctx.payload.length;
  const lat = new Samples();
  let bound: Bound | undefined;
  const fail = () => bound?.stop("failed");
  const pool = await startWorkers(ctx, o.workers, ctx.fns, () => {}, fail);
  const t0 = ctx.now();
  const warmEnd = t0 + o.warmup * 1000;
  const deadline = warmEnd + o.seconds * 1000;
  ctx.progress.since = warmEnd;
  let issued = 0, measured = 0, inflight = 0, errors = 0, next = 0, lastAt = warmEnd;
  const b = (bound = new Bound(ctx, o.warmup + o.seconds, () => inflight === 0));

  const issue = (peer: Peer, job: { t: number; counted: boolean }) => {
    if (b.stopped) return;
    const t = ctx.now();
    job.counted = t >= warmEnd;
    if (job.counted && issued++ >= o.jobs) return;
    job.t = t;
    inflight++;
    putSubmit(peer, tpls[next++ % tpls.length]!, ctx.counter++);
  };
  const answered = (peer: Peer, job: { t: number; counted: boolean }, ok: boolean) => {
    inflight--;
    const t = ctx.now();
    if (!ok) errors++;
    else if (job.counted && t <= deadline) {
      lat.add(t - job.t);
      ctx.progress.jobs = ++measured;
      lastAt = t;
    }
    issue(peer, job);
    if (inflight === 0) b.finish();
  };
  const peers = await b.guard(Promise.all(Array.from({ length: o.clients }, async (_, i) => {
    const job = { t: 0, counted: false };
    const onPacket = (peer: Peer, type: number, args: Uint8Array[]) => {
      switch (type) {
        case T.JOB_CREATED:
        case T.WORK_DATA:
        case T.WORK_WARNING:
        case T.WORK_STATUS:
          return;
        case T.WORK_COMPLETE: {
          const data = args[1] as Uint8Array;
          const same = data.length === size && (size === 0 || (data[0] === ctx.payload[0] &&
            data[size - 1] === ctx.payload[size - 1]));
          return answered(peer, job, same);
        }
        case T.WORK_FAIL:
        case T.WORK_EXCEPTION:
        case T.ERROR:
          return answered(peer, job, false);
        default:
          peer.errors++;
      }
    };
    return await openPeer(ctx, ctx.addrs[i % ctx.addrs.length]!, onPacket, fail).then((peer) => ({
      peer,
      job,
    }));
  })));
  for (const { peer, job } of peers) {
    issue(peer, job);
    peer.flush();
  }
  if (inflight === 0) b.finish();
  await b.done;
  const clients = peers.map((p) => p.peer);
  await release(ctx, clients);
  await pool.close();
  const end = b.stopped ? Math.min(deadline, b.stoppedAt) : lastAt;
  errors += inflight + sumErrors(clients) + pool.errors(); // inflight: never answered
  const r = result("roundtrip", measured, end - warmEnd, errors, b, o.clients, o.workers);
  return { ...r, latencyUs: lat.summary() };
}

function result(
  workload: WorkloadResult["workload"],
  jobs: number,
  ms: number,
  errors: number,
  bound: Bound,
  connections: number,
  workers: number,
): WorkloadResult {
  const seconds = Math.max(ms, 0) / 1000;
  return {
    workload,
    jobs,
    seconds,
    jobsPerSecond: seconds > 0 ? jobs / seconds : 0,
    errors,
    stoppedBy: bound.reason,
    connections,
    workers,
  };
}
