/**
 * Help texts of the CLI.
 *
 * @module
 */
import { VERSION } from "../version.ts";

/** `gearman-ts --version`. */
export const VERSION_LINE = `gearman-ts ${VERSION}`;

/** `gearman-ts --help`. */
export const MAIN_HELP =
  `gearman-ts ${VERSION}: a Gearman job server (wire-compatible with gearmand 1.1.20)

Usage: gearman-ts <mode> [options]

Modes:
  server     run a job server (gearmand's flags; see gearman-ts server --help)
  client     submit jobs, like the gearman CLI (see gearman-ts client --help)
  worker     serve jobs by running a command, like gearman -w (gearman-ts worker --help)
  admin      query or manage a server, like gearadmin (gearman-ts admin --help)
  bench      load-test any Gearman server (gearman-ts bench --help)
  completion   print a bash or zsh completion script (gearman-ts completion bash)

Each mode has its own options: gearman-ts <mode> --help.

Options:
  -h, --help       show this help
  -V, --version    print the version
`;

/** `gearman-ts server --help`. */
export const SERVER_HELP = `Usage: gearman-ts server [options] [@config-file]

Runs a Gearman job server. Flags follow gearmand 1.1.20; values may be given
as --flag=value, --flag value, -xvalue or -x value.

Network:
  -p, --port=PORT              port to listen on (default 4730; 0 = any free port)
  -L, --listen=ADDRESS         address to listen on; repeat for several
                               (default 127.0.0.1 only: add -L 0.0.0.0 or -L ::
                               to accept connections from other hosts)
  -b, --backlog=N              listen backlog (default 1024; gearmand's is 32)
      --keepalive              enable TCP keepalive on accepted connections
      --max-packet-size=BYTES  largest packet accepted (default 64M; K/M/G allowed)

Jobs:
  -j, --job-retries=N          attempts a job gets before it fails; 0 = no limit (default)
  -w, --worker-wakeup=N        most sleeping workers woken at a time per function;
                               0 = one per runnable job (default)
      --grab-wait=MS           how long a worker's grab that finds no job waits
                               for one before NO_JOB (default 1; 0 = at once,
                               as gearmand)
      --created-wait=MS        how long JOB_CREATED of a foreground job may wait
                               to leave with the job's result (default 1; 0 = at
                               once, as gearmand)
      --job-handle-prefix=STR  job handle prefix (default H:<hostname>)
      --exceptions             forward WORK_EXCEPTION to every client
  -R, --round-robin            accepted; round-robin is always on

Background job store (default: sqlite:gearman-ts.db in the working directory):
      --store=SPEC             sqlite:PATH, postgres://user:pass@host/db, or memory
                               (kept only until the server stops)
  -q, --queue-type=TYPE        gearmand's names: builtin (= memory), libsqlite3
                               (with --libsqlite3-db=PATH) or Postgres/libpq (with
                               --libpq-conninfo='host=... dbname=...' or a URL)
      --fsync=os|always        os (default) survives a crash of the server,
                               always also a power loss (syncs each group commit)
      --store-queue-on-shutdown  write the queue only at a clean stop (faster;
                               a crash loses what was queued since the last one)

Logging and process:
  -l, --log-file=FILE          stderr (default), none, or a file (appended;
                               reopened on SIGHUP)
      --verbose=LEVEL          FATAL, ALERT, CRITICAL, ERROR (default), WARNING,
                               NOTICE, INFO or DEBUG
  -P, --pid-file=FILE          write the process id here; removed on exit
      --config-file=FILE       more flags, white-space separated, # comments
                               (default /etc/gearmand.conf, skipped if missing);
                               command-line flags win
      --check-args             check the flags and the config file, then exit
  -h, --help                   show this help
  -V, --version                print the version

Accepted but ignored (with a note): -t/--threads (one event loop), --syslog,
-f/--file-descriptors, --hashtable-buckets, --keepalive-idle/-interval/-count,
--coredump, --http-port.
Refused: -d/--daemon (use a service manager), -u/--user, -r/--protocol,
--ssl*, and the libmemcached, redis and mysql queue modules.

Signals: SIGTERM/SIGINT stop now; SIGUSR1 stops gracefully (stop accepting,
exit once no job is queued or running); SIGHUP reopens the log file.
`;
