import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidArgumentError } from "../../src/errors.ts";
import { Logger } from "../../src/log.ts";
import { openLogTarget } from "../../src/cli/log_sink.ts";
import { removePidFile, writePidFile } from "../../src/cli/pid_file.ts";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "gearman-ts-cli-"));
}

describe("openLogTarget()", () => {
  it("openLogTarget() appends gearmand-format lines and reopens the path after a rotation", () => {
    const dir = tempDir();
    try {
      const path = join(dir, "gearmand.log");
      const target = openLogTarget(path);
      const logger = new Logger("NOTICE", target.sink);
      logger.notice("one");
      logger.info("hidden");
      renameSync(path, `${path}.1`);
      logger.error("two"); // still goes to the renamed file, as with logrotate
      target.reopen();
      logger.warning("three");
      target.close();
      assert.equal(readFileSync(`${path}.1`, "utf8"), " NOTICE one\n  ERROR two\n");
      assert.equal(readFileSync(path, "utf8"), "WARNING three\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("openLogTarget() throws InvalidArgumentError when the file cannot be opened", () => {
    assert.throws(() => openLogTarget("/nonexistent-dir/x/gearmand.log"), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError);
      assert.match(err.message, /^cannot open log file \/nonexistent-dir\/x\/gearmand.log: /);
      return true;
    });
  });

  it("openLogTarget() accepts none and stderr without touching the file system", () => {
    for (const spec of ["none", "stderr"]) {
      const target = openLogTarget(spec);
      assert.equal(target.name, spec);
      target.reopen();
      target.close();
    }
  });
});

describe("writePidFile()", () => {
  it("writePidFile() writes the pid and removePidFile() removes it once", () => {
    const dir = tempDir();
    try {
      const path = join(dir, "g.pid");
      writePidFile(path, 4242);
      assert.equal(readFileSync(path, "utf8"), "4242\n");
      assert.equal(removePidFile(path), true);
      assert.equal(existsSync(path), false);
      assert.equal(removePidFile(path), true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
