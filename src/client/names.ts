import { InvalidArgumentError } from "../errors.ts";
import { utf8Bytes } from "../util/bytes.ts";

/**
 * Refuses a function name, unique id or client id with a NUL byte in it:
 * in a packet, the NUL would end the argument and shift the ones after it.
 *
 * @throws {InvalidArgumentError} naming `field` when `text` contains a NUL
 */
export function checkName(field: string, text: string): void {
  if (text.includes("\0")) {
    throw InvalidArgumentError.format(field, `${JSON.stringify(text)} contains a NUL byte`);
  }
}

/** `text` as UTF-8, once {@link checkName} has accepted it. */
export function nameBytes(field: string, text: string): Uint8Array {
  checkName(field, text);
  return utf8Bytes(text);
}
