/**
 * Our client or worker for scripts/bench_client.ts, run as a child process
 * on Node, Deno or Bun; the same protocol as php_client.php / php_worker.php.
 *
 *   ts_role.ts client HOST PORT fg|bg FUNCTION SIZE WINDOW [COUNT]
 *     keeps WINDOW jobs in flight (fg: until T1; bg: COUNT jobs, none started after T1)
 *     -> "ready", <- "go T0 T1", -> {"jobs", "startMs", "endMs"}, <- EOF
 *   ts_role.ts worker HOST PORT FUNCTION CONCURRENCY
 *     answers FUNCTION with the workload; stops gracefully at end of input
 *
 * @module
 */
import process from "node:process";
import { createInterface } from "node:readline";
import { createClient, createWorker } from "../../mod.ts";

const [role, host, port, ...rest] = process.argv.slice(2);
const servers = `${host}:${port}`;
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const nextLine = async (): Promise<string | undefined> => (await lines.next()).value as string | undefined;
const say = (line: string) => void process.stdout.write(line + "\n");

if (role === "worker") {
  const [fn = "", concurrency = "1"] = rest;
  const worker = createWorker({ servers, concurrency: Number(concurrency) });
  worker.register(fn, (job) => job.workload).start();
  while ((await nextLine()) !== undefined) { /* wait for the end of input */ }
  await worker.stop();
  process.exit(0);
} else if (role === "client") {
  const [mode, fn = "", size = "16", window = "1", count = "0"] = rest;
  const payload = new Uint8Array(Number(size)).fill(0x78);
  const client = createClient({ servers });
  const inFlight = Math.max(1, Number(window));
  if (mode === "fg") await client.submit(fn, payload);
  else await Promise.all(Array.from({ length: Math.min(inFlight, 10) }, () => client.submitBackground(fn, payload)));
  say("ready");
  const [, t0s = "0", t1s = "0"] = ((await nextLine()) ?? "").split(" ");
  const t0 = Number(t0s);
  const t1 = Number(t1s);
  let jobs = 0;
  let startMs = t0;
  let endMs = t1;
  if (mode === "fg") {
    await new Promise<void>((resolve, reject) => {
      let running = 0;
      const next = (): void => {
        running++;
        client.submit(fn, payload).then(() => {
          running--;
          const now = Date.now();
          if (now >= t0 && now < t1) jobs++;
          if (now < t1) next();
          else if (running === 0) resolve();
        }, reject);
      };
      for (let i = 0; i < inFlight; i++) next();
    });
  } else {
    const total = Number(count);
    startMs = Date.now();
    await new Promise<void>((resolve, reject) => {
      let submitted = 0;
      const next = (): void => {
        submitted++;
        client.submitBackground(fn, payload).then(() => {
          if (++jobs === submitted && (submitted === total || Date.now() >= t1)) resolve();
          else if (submitted < total && Date.now() < t1) next();
        }, reject);
      };
      for (let i = 0; i < Math.min(inFlight, total); i++) next();
    });
    endMs = Date.now();
  }
  say(JSON.stringify({ jobs, startMs, endMs }));
  while ((await nextLine()) !== undefined) { /* wait for the end of input */ }
  client.close();
  process.exit(0);
} else {
  process.stderr.write(`ts_role: unknown role ${role}\n`);
  process.exit(2);
}
