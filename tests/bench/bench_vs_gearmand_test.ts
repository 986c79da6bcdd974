import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { detectRuntime } from "../../src/net/runtime.ts";
import { hasCommand, run } from "../_procs.ts";
import { GEARMAND } from "../_target.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const NODE = join(ROOT, "node_modules/.bin/node");

function whySkip(): string | false {
  if (!existsSync(GEARMAND)) return "gearmand is not installed (apt-get install gearman-job-server)";
  if (!hasCommand("cc") || !existsSync("/usr/include/libgearman-1.0/gearman.h")) {
    return "gearbench needs cc and libgearman-dev";
  }
  if (!existsSync(join(ROOT, "../shared/bench/gearbench.c"))) {
    return "gearbench's source is not beside this checkout (../shared/bench/gearbench.c)";
  }
  // One short run is enough to know the script still works; it starts every runtime itself.
  return detectRuntime() === "node" ? false : "runs once, under node --test";
}

describe("scripts/bench_vs_gearmand.ts", () => {
  it("measures gearmand and gearman-ts with both generators and reports ratios and ceilings", {
    timeout: 120_000,
    skip: whySkip(),
  }, async () => {
    const args = ["--quick", "--runtimes", "bun", "--workloads", "ac", "--jobs", "2000"];
    args.push("--seconds", "0.5", "--max-wait", "0", "--reruns", "0", "--json");
    const r = await run(NODE, [join(ROOT, "scripts/bench_vs_gearmand.ts"), ...args], {
      cwd: ROOT,
      timeoutMs: 110_000,
    });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as {
      results: Record<string, Record<string, { median: number; ratio?: number }>>;
      zeroCpuCeiling: { key: string; byRuntime: Record<string, number> }[];
    };
    for (const key of ["a.C", "a.ts", "c.C", "c.ts", "c_p99.C", "c_cpu.C", "c_gen.C"]) {
      const gm = report.results.gearmand?.[key];
      const bun = report.results.bun?.[key];
      assert.ok(gm !== undefined && gm.median > 0, `gearmand ${key}: ${JSON.stringify(gm)}`);
      assert.ok(bun !== undefined && bun.median > 0, `bun ${key}: ${JSON.stringify(bun)}`);
      assert.ok(Number.isFinite(bun.ratio), `bun ${key} has a ratio`);
    }
    const ceiling = report.zeroCpuCeiling.find((c) => c.key === "c.C");
    assert.ok((ceiling?.byRuntime.bun ?? 0) > 1, `c.C ceiling: ${JSON.stringify(ceiling)}`);
  });
});
