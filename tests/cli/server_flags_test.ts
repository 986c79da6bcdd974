import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { hostname } from "node:os";
import { InvalidArgumentError } from "../../src/errors.ts";
import { tokenizeConfig } from "../../src/cli/config_file.ts";
import { parseServerArgs } from "../../src/cli/server_flags.ts";
import { isLoopback } from "../../src/util/addr.ts";

/** A config-file reader over an in-memory map; absent paths do not exist. */
function files(map: Record<string, string>) {
  return (path: string) => map[path];
}
const none = files({});

function rejects(argv: string[], pattern: RegExp, read = none) {
  assert.throws(() => parseServerArgs(argv, read), (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${err}`);
    assert.match(err.message, pattern);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
}

describe("parseServerArgs()", () => {
  it("parseServerArgs() gives gearmand's defaults with loopback-only listening when no flag is given", () => {
    const c = parseServerArgs([], none);
    assert.deepEqual(c.options.listen, ["127.0.0.1"]);
    assert.equal(c.options.port, 4730);
    assert.equal(c.options.jobRetries, 0);
    assert.equal(c.options.workerWakeup, 0);
    assert.equal(c.options.grabWait, 1);
    assert.equal(c.options.createdWait, 1);
    assert.equal(c.options.exceptions, false);
    assert.equal(c.options.jobHandlePrefix, `H:${hostname()}`);
    assert.equal(c.logLevel, "ERROR");
    assert.equal(c.logFile, "stderr");
    assert.equal(c.pidFile, undefined);
    assert.equal(c.configFile, undefined);
    assert.deepEqual(c.notes, []);
  });

  it("parseServerArgs() reads gearmand's short and long flags in every spelling", () => {
    const c = parseServerArgs([
      "-p4731",
      "-L",
      "0.0.0.0",
      "--listen=::1",
      "-j",
      "3",
      "-R",
      "-w2",
      "--grab-wait=5",
      "--created-wait",
      "0",
      "--job-handle-prefix=H:box",
      "--exceptions",
      "-l",
      "none",
      "--verbose",
      "info",
      "-P",
      "/run/g.pid",
      "-b",
      "64",
      "--keepalive",
      "-q",
      "builtin",
      "--max-packet-size=1M",
    ], none);
    assert.deepEqual(c.options, {
      listen: ["0.0.0.0", "::1"],
      port: 4731,
      jobRetries: 3,
      workerWakeup: 2,
      grabWait: 5,
      createdWait: 0,
      exceptions: true,
      maxPacketSize: 1024 * 1024,
      backlog: 64,
      keepalive: true,
      jobHandlePrefix: "H:box",
      store: "memory",
    });
    assert.equal(c.logFile, "none");
    assert.equal(c.logLevel, "INFO");
    assert.equal(c.pidFile, "/run/g.pid");
  });

  it("parseServerArgs() rejects unknown flags and stray arguments with a one-line message", () => {
    rejects(["--bogus"], /^unknown option '--bogus'$/);
    rejects(["-x"], /^unknown option '-x'$/);
    rejects(["serve"], /^unexpected argument 'serve'$/);
    rejects(["-p"], /option '-p, --port' needs a value/);
    rejects(["--exceptions=yes"], /'--exceptions' does not take a value/);
  });

  it("parseServerArgs() rejects bad values naming the flag", () => {
    rejects(["-p", "http"], /invalid --port: expected an integer 0-65535, got 'http'/);
    rejects(["-p", "70000"], /--port/);
    rejects(["-j", "-1"], /needs a value|--job-retries/);
    rejects(["-w", "1.5"], /invalid --worker-wakeup/);
    rejects(["--grab-wait=5000"], /invalid --grab-wait: expected an integer 0-1000/);
    rejects(["--created-wait=-1"], /--created-wait/);
    rejects(["-b", "0"], /invalid --backlog: expected an integer >= 1/);
    rejects(["--verbose=LOUD"], /invalid --verbose: expected one of FATAL, .*DEBUG, got 'LOUD'/);
    rejects(["--max-packet-size=big"], /invalid --max-packet-size/);
    rejects(["--job-handle-prefix=a b"], /invalid --job-handle-prefix/);
    rejects(["-t", "many"], /invalid --threads/);
  });

  it("parseServerArgs() refuses features gearman-ts lacks instead of ignoring them", () => {
    rejects(["-d"], /--daemon is not supported: run gearman-ts in the foreground/);
    rejects(
      ["-q", "mysql"],
      /queue type 'mysql' is not supported: use builtin, libsqlite3 or libpq/,
    );
    rejects(["--mysql-host=db"], /--mysql-host belongs to a queue module gearman-ts does not have/);
    rejects(["--ssl"], /--ssl is not supported/);
    rejects(["-u", "gearman"], /--user is not supported/);
    rejects(["-r", "http"], /--protocol is not supported/);
  });

  it("parseServerArgs() accepts -t, --syslog and other no-op flags with a note each", () => {
    const c = parseServerArgs(["-t", "8", "--syslog", "--hashtable-buckets=991", "-R"], none);
    assert.equal(c.notes.length, 3);
    assert.match(c.notes[0]!, /one event loop, so -t\/--threads is ignored/);
    assert.match(c.notes[1]!, /--syslog is not supported/);
  });

  it("parseServerArgs() applies the config file, with command-line flags winning", () => {
    const read = files({
      "/etc/g.conf":
        "# gearmand flags\n--port=5000   --verbose=NOTICE\n-L 10.0.0.1 # lan\n\n--listen=::1\r\n--exceptions\n",
    });
    const c = parseServerArgs(["--config-file=/etc/g.conf", "-p", "6000"], read);
    assert.equal(c.configFile, "/etc/g.conf");
    assert.equal(c.options.port, 6000);
    assert.equal(c.logLevel, "NOTICE");
    assert.equal(c.options.exceptions, true);
    assert.deepEqual(c.options.listen, ["10.0.0.1", "::1"]);
    assert.deepEqual(parseServerArgs(["@/etc/g.conf", "-L", "127.0.0.2"], read).options.listen, [
      "127.0.0.2",
    ]);
  });

  it("parseServerArgs() reads /etc/gearmand.conf by default and skips it when missing", () => {
    assert.equal(
      parseServerArgs([], files({ "/etc/gearmand.conf": "--port=4999" })).options.port,
      4999,
    );
    assert.equal(parseServerArgs([], none).configFile, undefined);
  });

  it("parseServerArgs() fails on a missing explicit config file and on bad flags inside one", () => {
    rejects(["--config-file=/nope.conf"], /^config file \/nope.conf does not exist$/);
    rejects(
      ["--config-file=/c"],
      /unknown option '--bogus' \(in \/c\)/,
      files({ "/c": "--bogus" }),
    );
    rejects(["--config-file=/c"], /--port: expected an integer/, files({ "/c": "--port=x" }));
  });

  it("parseServerArgs() returns help or version without reading the config file", () => {
    const throwing = () => {
      throw new Error("should not be read");
    };
    assert.equal(parseServerArgs(["--help", "-d"], throwing).help, true);
    assert.equal(parseServerArgs(["-V"], throwing).version, true);
  });
});

describe("parseServerArgs() store flags", () => {
  it("parseServerArgs() keeps jobs in gearman-ts.db unless a store is named", () => {
    const o = parseServerArgs([], none).options;
    assert.equal(o.store, "sqlite:gearman-ts.db");
    assert.equal(o.storeQueueOnShutdown, undefined);
  });

  it("parseServerArgs() keeps jobs in memory with -q builtin or --store memory", () => {
    for (const argv of [["-q", "builtin"], ["--queue-type=BUILTIN"], ["--store=memory"]]) {
      assert.equal(parseServerArgs(argv, none).options.store, "memory");
    }
  });

  it("parseServerArgs() passes --store, --fsync and --store-queue-on-shutdown through", () => {
    const o = parseServerArgs([
      "--store=sqlite:/var/lib/q.db",
      "--fsync=always",
      "--store-queue-on-shutdown",
    ], none)
      .options;
    assert.equal(o.store, "sqlite:/var/lib/q.db");
    assert.equal(o.fsync, "always");
    assert.equal(o.storeQueueOnShutdown, true);
    assert.equal(parseServerArgs(["--store", "memory"], none).options.store, "memory");
  });

  it("parseServerArgs() maps gearmand's -q libsqlite3 and -q libpq onto stores", () => {
    const sqlite = parseServerArgs(
      ["-q", "libsqlite3", "--libsqlite3-db=/var/lib/gearman/q.db"],
      none,
    );
    assert.equal(sqlite.options.store, "sqlite:/var/lib/gearman/q.db");
    const withTable = parseServerArgs([
      "-q",
      "libsqlite3",
      "--libsqlite3-db=q.db",
      "--libsqlite3-table=t",
    ], none);
    assert.match(withTable.notes.join("\n"), /--libsqlite3-table is ignored/);
    const pg = parseServerArgs(["-q", "libpq", "--libpq-conninfo=postgres://u:p@db/gearman"], none);
    assert.equal(pg.options.store, "postgres://u:p@db/gearman");
    const conninfo = parseServerArgs(
      ["-q", "Postgres", "--libpq-conninfo=host=db port=5433 dbname=g user=u password='p w'"],
      none,
    );
    assert.equal(conninfo.options.store, "postgres://u:p%20w@db:5433/g");
  });

  it("parseServerArgs() rejects store flags that do not fit together", () => {
    rejects(["-q", "libsqlite3"], /-q libsqlite3 needs --libsqlite3-db=PATH/);
    rejects(["--libsqlite3-db=/tmp/q.db"], /--libsqlite3-db needs -q libsqlite3/);
    rejects(["-q", "libpq"], /needs --libpq-conninfo/);
    rejects(["-q", "libpq", "--libpq-conninfo=host"], /invalid --libpq-conninfo: cannot parse/);
    rejects(["--store=mysql://db"], /invalid --store: expected memory, sqlite:PATH or a postgres/);
    rejects(
      ["--store=memory", "-q", "libsqlite3", "--libsqlite3-db=q"],
      /either --store or -q libsqlite3/,
    );
    rejects(["--fsync=sometimes"], /invalid --fsync: expected os or always/);
    rejects(
      ["--store-queue-on-shutdown", "-q", "builtin"],
      /--store-queue-on-shutdown needs a store/,
    );
  });
});

describe("tokenizeConfig()", () => {
  it("tokenizeConfig() splits on any white space and drops # comments", () => {
    assert.deepEqual(
      tokenizeConfig("  --a=1\t--b 2\n#--c\n--d=x#y # note\r\n"),
      ["--a=1", "--b", "2", "--d=x#y"],
    );
  });
});

describe("isLoopback()", () => {
  it("isLoopback() is true only for 127/8, ::1 and localhost", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"]) {
      assert.equal(isLoopback(h), true, h);
    }
    for (const h of ["0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "example.com"]) {
      assert.equal(isLoopback(h), false, h);
    }
  });
});
