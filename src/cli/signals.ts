/**
 * Signal handlers through node:process, which Node, Deno and Bun all
 * provide. A signal the platform cannot watch (Windows has no SIGHUP or
 * SIGUSR1) is skipped rather than failing startup.
 *
 * @module
 */
import process from "node:process";

/** The signals the server mode listens for. */
export type HandledSignal = "SIGTERM" | "SIGINT" | "SIGUSR1" | "SIGHUP";

/**
 * Installs `handlers` and returns a function that removes them again.
 * Signals that cannot be watched here are left out silently.
 */
export function onSignals(handlers: Partial<Record<HandledSignal, () => void>>): () => void {
  const installed: Array<[HandledSignal, () => void]> = [];
  for (const [signal, handler] of Object.entries(handlers) as Array<[HandledSignal, () => void]>) {
    try {
      process.on(signal, handler);
      installed.push([signal, handler]);
    } catch {
      // Unsupported on this platform (e.g. SIGUSR1 on Windows under Deno).
    }
  }
  return () => {
    for (const [signal, handler] of installed) process.off(signal, handler);
  };
}
