/**
 * What the client, worker and admin modes share: where output goes, how
 * `-h`/`-p`/`--servers` become a server list, reading standard input.
 *
 * @module
 */
import process from "node:process";
import { concatBytes } from "../util/bytes.ts";
import { parseInteger } from "./args.ts";
import { VERSION_LINE } from "./usage.ts";

/** Where a command writes. */
export interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
  write(bytes: Uint8Array): void;
}

/** The process's own standard output and error. */
export const processOutput: Output = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  write: (bytes) => void process.stdout.write(bytes),
};

/** The flags client and worker modes share, with gearman's letters. */
export const JOB_MODE_FLAGS = {
  function: { type: "string", short: "f", multiple: true },
  host: { type: "string", short: "h" },
  port: { type: "string", short: "p" },
  servers: { type: "string" },
  help: { type: "boolean", short: "H" },
  version: { type: "boolean", short: "V" },
} as const;

/** `--servers a:1,b:2` wins; else `-h HOST` and `-p PORT` (gearman's defaults: localhost, 4730). */
export function serverList(values: { host?: string; port?: string; servers?: string }): string {
  if (values.servers !== undefined) return values.servers;
  const host = values.host ?? "127.0.0.1";
  const port = values.port === undefined ? 4730 : parseInteger("-p", values.port, 1, 65535);
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Reads a stream to its end. */
export async function readStdin(stream: AsyncIterable<Uint8Array | string>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    parts.push(bytes);
    size += bytes.length;
  }
  return concatBytes(parts, size);
}

/** Answers `--help` or `--version`: the exit code when one was asked for, else undefined. */
export function helpOrVersion(
  values: { help?: boolean | undefined; version?: boolean | undefined },
  help: string,
  out: Output,
): number | undefined {
  if (values.help === true) out.stdout(help);
  else if (values.version === true) out.stdout(`${VERSION_LINE}\n`);
  else return undefined;
  return 0;
}
