/**
 * Top self-time functions of the V8 `.cpuprofile` files that node and bun
 * write with --cpu-prof.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./paths.ts";

interface ProfileNode {
  readonly id: number;
  readonly hitCount?: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  readonly nodes: ProfileNode[];
  readonly samples?: number[];
  readonly timeDeltas?: number[];
}

/** "name  file:line", the file relative to the checkout. */
function label({ functionName, url, lineNumber }: ProfileNode["callFrame"]): string {
  const name = functionName || "(anonymous)";
  const where = url.replace(/^file:\/\//, "").replace(ROOT + "/", "");
  return where ? `${name}  ${where}:${lineNumber + 1}` : name;
}

/**
 * Self time per function, idle time as "(idle)": in samples or, with "ms",
 * in milliseconds (`hitCount` when a profile lists no samples).
 */
function selfTime(file: string, unit: "samples" | "ms"): Map<string, number> {
  const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byNode = new Map<number, number>();
  if (p.samples === undefined) { for (const n of p.nodes) byNode.set(n.id, n.hitCount ?? 0); }
  p.samples?.forEach((id, i) => {
    const weight = unit === "ms" ? (p.timeDeltas?.[i] ?? 0) / 1000 : 1;
    byNode.set(id, (byNode.get(id) ?? 0) + weight);
  });
  const out = new Map<string, number>();
  for (const n of p.nodes) {
    const weight = byNode.get(n.id) ?? 0;
    const key = label(n.callFrame);
    if (weight > 0) out.set(key, (out.get(key) ?? 0) + weight);
  }
  return out;
}

/** The `n` largest entries for which `keep(key)` holds, largest first. */
const top = (times: Map<string, number>, n: number, keep: (key: string) => boolean) =>
  [...times].filter(([k]) => keep(k)).sort((x, y) => y[1] - x[1]).slice(0, n);

/**
 * The newest profile in `dir`, as "% of busy samples": the top 10 overall and
 * the top 10 in src/; undefined when there is none.
 */
export function newestProfileSummary(dir: string, title: string): string | undefined {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".cpuprofile")) : [];
  const newest = files.map((f) => join(dir, f))
    .sort((x, y) => statSync(y).mtimeMs - statSync(x).mtimeMs)[0];
  if (!newest) return undefined;
  const self = selfTime(newest, "samples");
  self.delete("(idle)");
  const total = [...self.values()].reduce((x, y) => x + y, 0) || 1;
  const rows = (keep: (k: string) => boolean) =>
    top(self, 10, keep).map(([k, v]) => `  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`)
      .join("\n");
  return `# cpu profile ${title} (${newest.replace(ROOT + "/", "")}), self time, ` +
    `% of busy samples\ntop 10 overall:\n${rows(() => true)}\n` +
    `top 10 in src/:\n${rows((k) => k.includes("  src/"))}`;
}

/** Per profile in `dir`: busy and idle ms, the top 12 overall and the top 12 in `focus` paths. */
export function profileSummary(dir: string, focus: readonly string[]): string {
  const lines: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".cpuprofile")).sort()) {
    const times = selfTime(join(dir, file), "ms");
    const idle = times.get("(idle)") ?? 0;
    const busy = [...times.values()].reduce((a, b) => a + b, 0) - idle;
    const row = ([k, v]: [string, number]) =>
      `    ${v.toFixed(0).padStart(6)} ms ${(100 * v / busy).toFixed(1).padStart(5)}%  ${k}`;
    lines.push(`${file}: ${busy.toFixed(0)} ms busy, ${idle.toFixed(0)} ms idle`);
    lines.push("  top self time:");
    lines.push(...top(times, 12, (k) => k !== "(idle)").map(row));
    lines.push(`  top self time in ${focus.join(", ")}:`);
    lines.push(
      ...top(times, 12, (k) => k !== "(idle)" && focus.some((f) => k.includes(f))).map(row),
    );
  }
  return lines.join("\n");
}
