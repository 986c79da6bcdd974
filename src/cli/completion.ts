/**
 * `gearman-ts completion bash|zsh`: prints a shell completion script for the
 * modes and their flags. The flags are read from the modes' help texts, so a
 * flag documented in `--help` is a flag the shell completes.
 *
 * @module
 */
import { ADMIN_HELP } from "./admin_command.ts";
import { CLIENT_HELP } from "./client_command.ts";
import { type Output, processOutput } from "./io.ts";
import { SERVER_HELP } from "./usage.ts";
import { WORKER_HELP } from "./worker_command.ts";
import { VERSION } from "../version.ts";

/** `gearman-ts completion --help`. */
export const COMPLETION_HELP = `Usage: gearman-ts completion bash|zsh

Prints a completion script for the gearman-ts command: its modes, each mode's
options, and values where they are known (files, log levels, --fsync modes).

  source <(gearman-ts completion bash)                        this shell only
  gearman-ts completion bash > /etc/bash_completion.d/gearman-ts    every new shell
  gearman-ts completion zsh > "\${fpath[1]}/_gearman-ts"       zsh (uses bashcompinit)

Options:
  -h, --help       show this help and exit
`;

/** One option of a mode, as its help text documents it. */
export interface CompletionFlag {
  /** `--port`, or the short form `-p` listed beside it. */
  readonly names: readonly string[];
  /** The value placeholder (`PORT`, `FILE`, `os|always`), if the option takes one. */
  readonly value?: string;
}

const MODE_HELP = {
  server: SERVER_HELP,
  client: CLIENT_HELP,
  worker: WORKER_HELP,
  admin: ADMIN_HELP,
} as const;

/** The log levels `--verbose` takes. */
const LEVELS = "FATAL ALERT CRITICAL ERROR WARNING NOTICE INFO DEBUG";

/**
 * The options a help text documents: every `-x, --long` or `--long` on an
 * indented (option) line, and `--long=VALUE` mentioned in an option's
 * description, up to the first section that lists no options of the mode
 * (ignored or refused flags, signals, exit status, examples).
 */
export function flagsOfHelp(help: string): CompletionFlag[] {
  const body = help.split(/^(?:Accepted|Refused|Signals|Exit status|Examples|See also)\b/m)[0] ??
    help;
  const flags = new Map<string, CompletionFlag>();
  // Only indented lines: option lines and their continuations, not the prose.
  const optionLines = body.split("\n").filter((line) => /^\s/.test(line)).join("\n");
  const pattern =
    /(?:(?<=^\s+)(-[A-Za-z0-9]), )?(--[a-z0-9][a-z0-9-]*)(?:=(\S+)| ([A-Z][A-Z0-9_]*)(?=\s))?/gm;
  for (const m of optionLines.matchAll(pattern)) {
    const [, short, long, eqValue, spacedValue] = m;
    if (long === undefined) continue;
    // A flag may be mentioned before its own line: keep the fullest entry.
    const seen = flags.get(long);
    const value = (eqValue ?? spacedValue)?.replace(/[),.;]+$/, "") ?? seen?.value;
    flags.set(long, {
      names: short !== undefined ? [short, long] : seen?.names ?? [long],
      ...(value === undefined ? {} : { value }),
    });
  }
  return [...flags.values()];
}

/** What bash offers for an option's value, by its placeholder in the help text. */
function valueAction(value: string): string {
  const words = (list: string) => `COMPREPLY=($(compgen -W "${list}" -- "$cur"))`;
  if (/^(FILE|PATH|DIR)$/.test(value)) {
    return 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))';
  }
  if (value === "LEVEL") return words(LEVELS);
  if (value.includes("|")) return words(value.split("|").join(" "));
  if (value === "SPEC") return words("memory sqlite: postgres://");
  if (value === "TYPE") return words("builtin libsqlite3 libpq");
  return "COMPREPLY=()"; // a host, a number, a name: nothing to offer
}

/** `case "$mode $flag"` arms for the options that take a value, one per kind of value. */
function valueCases(perMode: ReadonlyArray<readonly [string, readonly CompletionFlag[]]>): string {
  const byAction = new Map<string, string[]>();
  for (const [mode, flags] of perMode) {
    for (const flag of flags) {
      if (flag.value === undefined) continue;
      const action = valueAction(flag.value);
      const patterns = byAction.get(action) ?? [];
      patterns.push(...flag.names.map((n) => `"${mode} ${n}"`));
      byAction.set(action, patterns);
    }
  }
  const arms: string[] = [];
  for (const [action, patterns] of byAction) {
    const lines: string[] = [];
    for (let i = 0; i < patterns.length; i += 5) lines.push(patterns.slice(i, i + 5).join(" | "));
    arms.push(`    ${lines.join(" | \\\n    ")})\n      ${action}; return ;;`);
  }
  return arms.join("\n");
}

/** The completion script for `shell`. */
export function completionScript(shell: "bash" | "zsh"): string {
  const modes = Object.keys(MODE_HELP).concat("completion");
  const perMode = Object.entries(MODE_HELP).map(([mode, help]) =>
    [mode, flagsOfHelp(help)] as const
  );
  const words = perMode
    .map(([mode, flags]) => `    ${mode}) words="${flags.flatMap((f) => f.names).join(" ")}" ;;`)
    .join("\n");
  const values = valueCases(perMode);
  const bash =
    `# ${shell} completion for gearman-ts ${VERSION}, from \`gearman-ts completion ${shell}\`.
_gearman_ts() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev="" flag mode="" words="" i
  ((COMP_CWORD > 0)) && prev=\${COMP_WORDS[COMP_CWORD-1]}
  # bash splits --flag=value at "=" (COMP_WORDBREAKS): find the flag either way.
  flag=$prev
  if [[ $cur == "=" ]]; then
    cur=""
  elif [[ $prev == "=" ]] && ((COMP_CWORD > 1)); then
    flag=\${COMP_WORDS[COMP_CWORD-2]}
  fi
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in
      ${modes.join("|")}) mode=\${COMP_WORDS[i]}; break ;;
    esac
  done
  if [[ $mode == worker ]]; then
    # After "--" comes the command a job runs, then its arguments.
    local j
    for ((j = i + 1; j < COMP_CWORD; j++)); do
      if [[ \${COMP_WORDS[j]} == "--" ]]; then
        if ((j + 1 == COMP_CWORD)); then
          COMPREPLY=($(compgen -c -- "$cur"))
        else
          compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))
        fi
        return
      fi
    done
  fi
  case "$mode $flag" in
${values}
  esac
  case $mode in
    "") words="${modes.join(" ")} --help --version" ;;
    completion) words="bash zsh --help" ;;
${words}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _gearman_ts gearman-ts
`;
  return shell === "zsh" ? `autoload -U +X bashcompinit && bashcompinit\n${bash}` : bash;
}

/** Runs `gearman-ts completion`; resolves to the exit code. */
export function runCompletionCommand(
  argv: readonly string[],
  out: Output = processOutput,
): Promise<number> {
  const [shell, ...rest] = argv;
  if (shell === "-h" || shell === "--help") {
    out.stdout(COMPLETION_HELP);
    return Promise.resolve(0);
  }
  if ((shell !== "bash" && shell !== "zsh") || rest.length > 0) {
    const got = shell === undefined ? "no shell" : `'${argv.join(" ")}'`;
    out.stderr(
      `gearman-ts completion: expected bash or zsh, got ${got} (see gearman-ts completion --help)\n`,
    );
    return Promise.resolve(1);
  }
  out.stdout(completionScript(shell));
  return Promise.resolve(0);
}
