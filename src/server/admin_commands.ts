import { isLoopback } from "../util/addr.ts";
import { VERSION } from "../version.ts";
import type { ServerConnection } from "./connection.ts";
import { JobState } from "./job.ts";

/** An `ERR` reply line; gearmand's put the text URL-encoded with `+` for spaces. */
export function adminError(code: string, text = ""): string {
  return text.length > 0 ? `ERR ${code} ${text.replaceAll(" ", "+")}\r\n` : `ERR ${code}\r\n`;
}

const OK = "OK\r\n";

function unknown(word: string): string {
  return adminError("UNKNOWN_COMMAND", `Unknown server command${word}`);
}

function incomplete(command: string): string {
  return adminError(
    "INVALID_ARGUMENTS",
    `An incomplete set of arguments was sent to this command ${command}`,
  );
}

/** Parses a `maxqueue` value: missing, zero or negative means unlimited. */
function limit(word: string | undefined): number {
  const n = Number.parseInt(word ?? "0", 10);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/**
 * Runs one line of the text admin protocol (PROTOCOL.md §12) and sends the
 * whole answer in one piece, with gearmand's exact formats.
 */
export function runAdminCommand(c: ServerConnection, line: string): void {
  const words = line.split(/ +/);
  const command = (words[0] ?? "").toLowerCase();
  c.sendText(answer(c, command, words));
}

function answer(c: ServerConnection, command: string, words: string[]): string {
  const core = c.core;
  const queue = core.queue;
  switch (command) {
    case "status": {
      let out = "";
      for (const fn of queue.functions.values()) {
        out += `${fn.name}\t${fn.total}\t${fn.running}\t${fn.workers}\n`;
      }
      return out + ".\n";
    }
    case "prioritystatus": {
      let out = "";
      for (const fn of queue.functions.values()) {
        const [high, normal, low] = fn.queues;
        out += `${fn.name}\t${high.length}\t${normal.length + fn.delayed}\t${low.length}\t` +
          `${fn.workers}\n`;
      }
      return out + ".\n";
    }
    case "workers": {
      let out = "";
      for (const peer of core.connections) {
        out += `${peer.id} ${peer.ip} ${peer.clientId} :`;
        for (const fn of peer.registrations) out += ` ${fn.name}`;
        out += "\n";
      }
      return out + ".\n";
    }
    case "show": {
      const sub = (words[1] ?? "").toLowerCase();
      if (words.length < 2) return unknown(words[0] ?? "");
      if (sub === "jobs" && words.length === 2) {
        let out = "";
        for (const job of queue.jobs.values()) {
          out += `${job.handle}\t${job.retries}\t${job.ignored ? 1 : 0}\t${
            job.background ? 1 : 0
          }\n`;
        }
        return out + ".\n";
      }
      if (sub === "unique" && (words[2] ?? "").toLowerCase() === "jobs" && words.length === 3) {
        let out = "";
        for (const job of queue.jobs.values()) out += `${job.unique}\n`;
        return out + ".\n";
      }
      return adminError("UNKNOWN_SHOW_ARGUMENTS");
    }
    case "cancel": {
      if ((words[1] ?? "").toLowerCase() !== "job" || words[2] === undefined) {
        return unknown(words[0] ?? "");
      }
      const job = queue.byHandle(words[2]);
      if (job === undefined || job.state === JobState.DONE || job.ignored) {
        return adminError("UNKNOWN_JOB");
      }
      core.cancel(job);
      return OK;
    }
    case "create": {
      if ((words[1] ?? "").toLowerCase() !== "function") return unknown(words[0] ?? "");
      const name = words[2];
      if (name === undefined || name.length === 0) return incomplete("create");
      queue.fn(name);
      return OK;
    }
    case "drop": {
      if ((words[1] ?? "").toLowerCase() !== "function") return unknown(words[0] ?? "");
      const name = words[2];
      if (name === undefined || name.length === 0) return incomplete("drop");
      const fn = queue.functions.get(name);
      if (fn === undefined) return "ERR function not found\r\n";
      if (fn.workers > 0 || fn.running > 0) {
        return "ERR there are still connected workers or executing clients\r\n";
      }
      for (const job of queue.dropFunction(fn)) core.fail(job);
      return OK;
    }
    case "maxqueue": {
      const name = words[1];
      if (name === undefined || name.length === 0) return incomplete("maxqueue");
      const fn = queue.functions.get(name);
      if (fn !== undefined) {
        if (words.length >= 5) {
          fn.maxQueue = [limit(words[2]), limit(words[3]), limit(words[4])];
        } else {
          const all = limit(words[2]);
          fn.maxQueue = [all, all, all];
        }
      }
      return OK;
    }
    case "getpid":
      return `OK ${core.settings.pid}\n`;
    case "verbose":
      return `OK ${core.logger.level}\n`;
    case "version":
      return `OK ${VERSION}\n`;
    case "shutdown": {
      if (!isLoopback(c.ip)) {
        return adminError("PERMISSION_DENIED", "shutdown is accepted only from loopback");
      }
      const graceful = (words[1] ?? "").toLowerCase() === "graceful";
      queueMicrotask(() => core.onShutdownRequest(graceful));
      return OK;
    }
    default:
      return unknown(words[0] ?? "");
  }
}
