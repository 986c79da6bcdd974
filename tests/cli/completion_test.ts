import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { completionScript, flagsOfHelp, runCompletionCommand } from "../../src/cli/completion.ts";
import { CLIENT_HELP } from "../../src/cli/client_command.ts";
import { SERVER_HELP } from "../../src/cli/usage.ts";
import { hasCommand, run } from "../_helpers.ts";

const T = { timeout: 20_000 };

function capture() {
  const got = { stdout: "", stderr: "" };
  const out = {
    stdout: (text: string) => void (got.stdout += text),
    stderr: (text: string) => void (got.stderr += text),
    write: (bytes: Uint8Array) => void (got.stdout += new TextDecoder().decode(bytes)),
  };
  return { got, out };
}

describe("flagsOfHelp()", () => {
  it("flagsOfHelp() reads short and long names and value placeholders from option lines", () => {
    const flags = flagsOfHelp(CLIENT_HELP);
    const byLong = new Map(flags.map((f) => [f.names.at(-1), f]));
    assert.deepEqual(byLong.get("--function"), { names: ["-f", "--function"], value: "NAME" });
    assert.deepEqual(byLong.get("--background"), { names: ["-b", "--background"] });
    assert.deepEqual(byLong.get("--servers"), { names: ["--servers"], value: "LIST" });
    assert.deepEqual(byLong.get("--help"), { names: ["-H", "--help"] });
    assert.deepEqual(byLong.get("--version"), { names: ["-V", "--version"] });
  });

  it("flagsOfHelp() skips prose and the server's ignored and refused flags", () => {
    const longs = flagsOfHelp(SERVER_HELP).map((f) => f.names.at(-1));
    assert.ok(longs.includes("--port") && longs.includes("--verbose"));
    assert.ok(!longs.includes("--flag"), "the prose example --flag=value is not a flag");
    assert.ok(!longs.includes("--threads"), "-t/--threads is accepted but ignored");
    assert.ok(!longs.includes("--daemon"), "-d/--daemon is refused");
  });
});

describe("runCompletionCommand()", () => {
  it("runCompletionCommand() prints the bash script for bash and exits 0", async () => {
    const { got, out } = capture();
    assert.equal(await runCompletionCommand(["bash"], out), 0);
    assert.match(got.stdout, /^complete -F _gearman_ts gearman-ts$/m);
    assert.equal(got.stderr, "");
  });

  it("runCompletionCommand() exits 1 with one line when the shell is missing or unknown", async () => {
    for (const argv of [[], ["fish"], ["bash", "extra"]]) {
      const { got, out } = capture();
      assert.equal(await runCompletionCommand(argv, out), 1);
      assert.match(got.stderr, /^gearman-ts completion: expected bash or zsh, got .*\n$/);
    }
  });
});

describe("completionScript()", () => {
  const tmp = mkdtempSync(join(tmpdir(), "gearman-ts-completion-"));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const script = join(tmp, "gearman-ts.bash");
  writeFileSync(script, completionScript("bash"));

  /** Runs the completion function for `words` (the last one is completed) in bash. */
  async function complete(...words: string[]): Promise<string[]> {
    const quoted = words.map((w) => `'${w}'`).join(" ");
    const r = await run("bash", [
      "--noprofile",
      "--norc",
      "-c",
      `source '${script}'; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; ` +
      `_gearman_ts; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ], { timeoutMs: 10_000 });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.split("\n").filter((l) => l !== "");
  }

  it("completionScript() completes modes, then each mode's own flags", T, async (t) => {
    if (!hasCommand("bash")) return t.skip("bash is not installed");
    assert.deepEqual(await complete("gearman-ts", "se"), ["server"]);
    assert.deepEqual(await complete("gearman-ts", "server", "--verb"), ["--verbose"]);
    assert.deepEqual(await complete("gearman-ts", "client", "--ti"), ["--timeout"]);
    assert.deepEqual(await complete("gearman-ts", "admin", "--show"), [
      "--show-jobs",
      "--show-unique-jobs",
    ]);
    assert.deepEqual(await complete("gearman-ts", "completion", "z"), ["zsh"]);
  });

  it("completionScript() completes values after a flag, also as --flag=value", T, async (t) => {
    if (!hasCommand("bash")) return t.skip("bash is not installed");
    assert.deepEqual(await complete("gearman-ts", "server", "--verbose", "IN"), ["INFO"]);
    // bash splits "--verbose=IN" into "--verbose", "=", "IN".
    assert.deepEqual(await complete("gearman-ts", "server", "--verbose", "=", "IN"), ["INFO"]);
    assert.deepEqual(await complete("gearman-ts", "server", "--fsync", "="), ["os", "always"]);
    assert.deepEqual(await complete("gearman-ts", "client", "-f", ""), []);
    const files = await complete(
      "gearman-ts",
      "server",
      "--config-file",
      join(tmp, "gearman-ts.b"),
    );
    assert.deepEqual(files, [script]);
  });

  it("completionScript() completes a command after worker's --", T, async (t) => {
    if (!hasCommand("bash")) return t.skip("bash is not installed");
    const words = await complete("gearman-ts", "worker", "-f", "x", "--", "bas");
    assert.ok(words.includes("bash"), `got ${words.join(" ")}`);
  });

  it("completionScript() gives zsh the same function through bashcompinit", () => {
    const zsh = completionScript("zsh");
    assert.match(zsh, /^autoload -U \+X bashcompinit && bashcompinit\n/);
    const body = (script: string) => script.slice(script.indexOf("_gearman_ts() {"));
    assert.equal(body(zsh), body(completionScript("bash")));
  });
});
