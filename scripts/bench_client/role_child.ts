/**
 * A child process of scripts/bench_client.ts that speaks a line protocol on
 * stdin/stdout (ts_role.ts, php_client.php, php_worker.php), in a process
 * group of its own.
 *
 * @module
 */
import type { ChildProcess } from "node:child_process";
import { exitOf, killHard, spawnChild } from "../bench_lib/children.ts";

/** A child process in its own process group, speaking one line at a time. */
export class Child {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly name: string;
  readonly exited: Promise<void>;
  #lines: string[] = [];
  #partial = "";
  #wake: (() => void) | undefined;
  #stderr = "";
  #done = false;

  constructor(cmd: readonly string[]) {
    this.name = cmd.slice(0, 3).map((a) => a.split("/").pop()).join(" ");
    this.proc = spawnChild(cmd, {
      stdin: "pipe",
      group: true,
      onError: (err) => (this.#stderr += String(err)),
    });
    this.pid = this.proc.pid ?? -1;
    this.proc.stdin?.on("error", () => {});
    this.proc.stdout?.setEncoding("utf8");
    this.proc.stdout?.on("data", (text: string) => {
      const parts = (this.#partial + text).split("\n");
      this.#partial = parts.pop() ?? "";
      this.#lines.push(...parts);
      this.#notify();
    });
    this.proc.stderr?.setEncoding("utf8");
    this.proc.stderr?.on("data", (text: string) => {
      this.#stderr = (this.#stderr + text).slice(-4000);
    });
    this.exited = exitOf(this.proc).then(() => {
      this.#done = true;
      this.#notify();
    });
  }

  get hasExited(): boolean {
    return this.#done;
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  /** The next line of output, waiting at most `timeoutMs`. */
  async line(timeoutMs: number): Promise<string> {
    const end = Date.now() + timeoutMs;
    while (this.#lines.length === 0) {
      if (this.#done) throw new Error(`${this.name} exited early: ${this.#stderr.trim()}`);
      const left = end - Date.now();
      if (left <= 0) {
        throw new Error(`${this.name}: no answer within ${timeoutMs} ms: ${this.#stderr.trim()}`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
    return this.#lines.shift()!;
  }

  async expectLine(text: string, timeoutMs: number): Promise<void> {
    const got = await this.line(timeoutMs);
    if (got !== text) {
      throw new Error(`${this.name}: expected "${text}", got "${got}" ${this.#stderr.trim()}`);
    }
  }

  async json(timeoutMs: number): Promise<{ jobs: number; startMs: number; endMs: number }> {
    return JSON.parse(await this.line(timeoutMs));
  }

  writeLine(text: string): void {
    this.proc.stdin?.write(text + "\n");
  }

  endInput(): void {
    this.proc.stdin?.end();
  }

  /** SIGKILL to the whole process group. */
  kill(): void {
    if (!this.#done) killHard(this.proc);
  }

  /** Waits for the exit; kills the group after `ms`. */
  async exitWithin(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.exited, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
    if (!this.#done) {
      this.kill();
      await this.exited;
    }
  }
}
