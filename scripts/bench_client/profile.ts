/**
 * Top self-time functions of the V8 `.cpuprofile` files in a directory, for
 * scripts/bench_client.ts --cpu-prof.
 *
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

/** Self time per function, in ms, of one profile. */
function selfTimes(p: Profile): Map<string, number> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const out = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i]!);
    if (node === undefined) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^file:\/\//, "").replace(/^.*?\/(src|scripts|node:)/, "$1");
    const key = `${functionName || "(anonymous)"} ${file}${file ? `:${lineNumber + 1}` : ""}`;
    out.set(key, (out.get(key) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  }
  return out;
}

/** A text report: per profile, the total, the top 12 overall and the top 12 in `focus` paths. */
export function profileSummary(dir: string, focus: readonly string[]): string {
  const lines: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".cpuprofile")).sort()) {
    const times = selfTimes(JSON.parse(readFileSync(join(dir, file), "utf8")) as Profile);
    const total = [...times.values()].reduce((a, b) => a + b, 0);
    const idle = [...times].filter(([k]) => k.startsWith("(idle)")).reduce((a, [, v]) => a + v, 0);
    const sorted = [...times].filter(([k]) => !k.startsWith("(idle)")).sort((a, b) => b[1] - a[1]);
    const fmt = ([k, v]: [string, number]) => `    ${v.toFixed(0).padStart(6)} ms ${(100 * v / (total - idle)).toFixed(1).padStart(5)}%  ${k}`;
    lines.push(`${file}: ${(total - idle).toFixed(0)} ms busy, ${idle.toFixed(0)} ms idle`);
    lines.push("  top self time:");
    lines.push(...sorted.slice(0, 12).map(fmt));
    lines.push(`  top self time in ${focus.join(", ")}:`);
    lines.push(...sorted.filter(([k]) => focus.some((f) => k.includes(f))).slice(0, 12).map(fmt));
  }
  return lines.join("\n");
}
