import { InvalidArgumentError } from "../errors.ts";
import { payloadBytes } from "../util/bytes.ts";

/**
 * A handler's result or progress payload as bytes: text as UTF-8, bytes as
 * they are. Handlers may come from plain JavaScript, so anything else (a
 * number, null, an ArrayBuffer) is refused here rather than reaching the
 * encoder, which would throw outside the handler or send garbage.
 *
 * @param value what the handler gave
 * @param what how the error names its source: "handler returned", "job.data() got"
 * @throws {InvalidArgumentError} when `value` is neither a string nor a Uint8Array
 */
export function payloadOf(value: unknown, what: string): Uint8Array {
  if (typeof value === "string" || value instanceof Uint8Array) return payloadBytes(value);
  throw new InvalidArgumentError(`${what} ${kindOf(value)}, not a string or Uint8Array`);
}

/** "null", "a number", "an object", "an ArrayBuffer". */
function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value !== "object") return `a ${typeof value}`;
  const name: unknown = Object.getPrototypeOf(value)?.constructor?.name;
  if (typeof name !== "string" || name === "" || name === "Object") return "an object";
  return `${/^[AEIO]/i.test(name) ? "an" : "a"} ${name}`;
}
