/**
 * The public surface is documented (STYLE.md, "Doc-comment conventions"):
 * every export of mod.ts has a JSDoc comment, every exported function and
 * class has an `@example` with a code block, and every public member of an
 * exported class has a JSDoc comment. The sources are read as text: a
 * declaration's comment is the `/** ... *\/` block right before it.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

interface Export {
  /** The exported name. */
  readonly name: string;
  /** The file that declares it, relative to the repository root. */
  readonly file: string;
}

/** The names mod.ts re-exports, with the file each comes from. */
function modExports(): Export[] {
  const mod = readFileSync(join(ROOT, "mod.ts"), "utf8");
  const out: Export[] = [];
  for (const m of mod.matchAll(/^export\s+(?:type\s+)?\{([^}]*)\}\s*from\s*"([^"]+)"/gm)) {
    const file = join(dirname("mod.ts"), m[2] as string);
    for (const raw of (m[1] as string).split(",")) {
      const name = raw.trim().replace(/^type\s+/, "").split(/\s+as\s+/)[0]?.trim();
      if (name) out.push({ name, file });
    }
  }
  return out;
}

interface Declaration {
  readonly kind: string;
  /** The JSDoc block right before the declaration, or undefined. */
  readonly doc: string | undefined;
  /** Where the declaration starts in the source. */
  readonly index: number;
}

const sources = new Map<string, string>();
function source(file: string): string {
  let text = sources.get(file);
  if (text === undefined) {
    text = readFileSync(join(ROOT, file), "utf8");
    sources.set(file, text);
  }
  return text;
}

/** The JSDoc block that ends right before `index` (only white space between). */
function docBefore(text: string, index: number): string | undefined {
  const before = text.slice(0, index).trimEnd();
  if (!before.endsWith("*/")) return undefined;
  const start = before.lastIndexOf("/**");
  return start < 0 ? undefined : before.slice(start);
}

function declaration(e: Export): Declaration | undefined {
  const text = source(e.file);
  const re = new RegExp(
    String.raw`^export\s+(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(function\*?|class|interface|type|const|let)\s+` +
      e.name.replace(/\$/g, "\\$") + String.raw`\b`,
    "m",
  );
  const m = re.exec(text);
  if (m === null) return undefined;
  return { kind: (m[1] as string).replace("*", ""), doc: docBefore(text, m.index), index: m.index };
}

/** The body of the class declared at `index`: up to the first line that is a lone `}`. */
function classBody(text: string, index: number): { body: string; offset: number } {
  const open = text.indexOf("{\n", index) + 2;
  const close = text.indexOf("\n}\n", open);
  return { body: text.slice(open, close < 0 ? text.length : close), offset: open };
}

/** Public members (two-space indent, not `#private`, not the constructor) of a class body. */
function publicMembers(body: string): { name: string; at: number }[] {
  const out: { name: string; at: number }[] = [];
  const re = /^ {2}(?:(?:static|async|get|set|readonly|override) +)*(\*?[A-Za-z_$][\w$]*|\[Symbol\.\w+\]) *[(<:=?!]/gm;
  for (const m of body.matchAll(re)) {
    const name = (m[1] as string).replace(/^\*/, "");
    if (/^(constructor|private|protected|if|for|while|switch|return|super|const|let)$/.test(name)) continue;
    out.push({ name, at: m.index });
  }
  return out;
}

const exports = modExports();
const hasExample = (doc: string) => /@example[\s\S]*?```/.test(doc);

describe("mod.ts", () => {
  it("modExports() finds the exports of mod.ts", () => {
    const names = exports.map((e) => e.name);
    for (const name of ["createClient", "createWorker", "createServer", "GearmanError", "VERSION"]) {
      assert.ok(names.includes(name), `${name} not found in ${names.join(", ")}`);
    }
  });

  it("every export of mod.ts is declared with a JSDoc comment", () => {
    const missing = exports.filter((e) => declaration(e)?.doc === undefined).map((e) => `${e.name} (${e.file})`);
    assert.deepEqual(missing, [], `exports without a JSDoc comment: ${missing.join(", ")}`);
  });

  it("every function and class exported from mod.ts has an @example with a code block", () => {
    const missing = exports.filter((e) => {
      const d = declaration(e);
      return d !== undefined && (d.kind === "function" || d.kind === "class") &&
        (d.doc === undefined || !hasExample(d.doc));
    }).map((e) => `${e.name} (${e.file})`);
    assert.deepEqual(missing, [], `functions and classes without an @example: ${missing.join(", ")}`);
  });

  it("every public member of a class exported from mod.ts has a JSDoc comment", () => {
    const missing: string[] = [];
    for (const e of exports) {
      const d = declaration(e);
      if (d === undefined || d.kind !== "class") continue;
      const text = source(e.file);
      const { body, offset } = classBody(text, d.index);
      for (const member of publicMembers(body)) {
        if (docBefore(text, offset + member.at) === undefined) missing.push(`${e.name}.${member.name} (${e.file})`);
      }
    }
    assert.deepEqual(missing, [], `public members without a JSDoc comment: ${missing.join(", ")}`);
  });
});
