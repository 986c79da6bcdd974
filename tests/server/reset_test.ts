import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PacketType as T } from "../../src/protocol/constants.ts";
import { run } from "../_procs.ts";
import { waitFor } from "../_wait.ts";
import { startServer, type TestServer } from "./_server.ts";

const NODE = join(fileURLToPath(new URL("../..", import.meta.url)), "node_modules/.bin/node");
const WORKERS = 400;

/**
 * Node 24 (whatever runtime runs the server) opens `n` connections to
 * `port`, 16 at a time; each registers for `fn`, grabs a job and is reset
 * (RST) at once, some before the server has even seen its address.
 */
const RESETTING_WORKERS = `
import net from "node:net";
const [port, fn, n] = [Number(process.argv[1]), process.argv[2], Number(process.argv[3])];
const packet = (type, arg = "") => {
  const body = Buffer.from(arg, "latin1");
  const head = Buffer.alloc(12);
  head.write("\\0REQ", 0, "latin1");
  head.writeUInt32BE(type, 4);
  head.writeUInt32BE(body.length, 8);
  return Buffer.concat([head, body]);
};
const bytes = Buffer.concat([packet(${T.CAN_DO}, fn), packet(${T.GRAB_JOB})]);
let left = n;
await Promise.all(Array.from({ length: 16 }, async () => {
  while (left-- > 0) {
    await new Promise((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.write(bytes);
        s.resetAndDestroy();
      });
      s.on("error", reject);
      s.on("close", resolve);
    });
  }
}));
`;

describe("GearmanServer and connections reset by their peer", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(() => s.stop());

  it("requeues the jobs of workers reset right after grabbing, and forgets the workers", {
    timeout: 60_000,
  }, async () => {
    const client = await s.connect();
    for (let i = 0; i < WORKERS; i++) client.send(T.SUBMIT_JOB_BG, ["rst", "", `j${i}`]);
    for (let i = 0; i < WORKERS; i++) await client.expect(T.JOB_CREATED);
    const r = await run(NODE, [
      "--input-type=module",
      "-e",
      RESETTING_WORKERS,
      String(s.port),
      "rst",
      String(WORKERS),
    ], { timeoutMs: 50_000 });
    assert.equal(r.code, 0, r.stderr);
    const admin = await s.connect();
    let last: string | undefined;
    try {
      await waitFor(async () => {
        last = (await admin.admin("status", true)).find((l) => l.startsWith("rst\t"));
        return last === `rst\t${WORKERS}\t0\t0`;
      }, { what: "every reset worker's job back in the queue and no worker left" });
    } catch (err) {
      throw new Error(`${(err as Error).message}; status: ${last}`);
    }
  });
});
