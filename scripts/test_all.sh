#!/usr/bin/env bash
# The whole suite, as `npm test` runs it:
#   1. builds the single binary (scripts/build_binary.ts) so its e2e tests run;
#   2. runs tests/ under Deno, Bun and Node 24 (node_modules/.bin first on PATH),
#      each runner's output shown and kept for counting;
#   3. type-checks with `tsc -p tsconfig.json` and checks the manifests.
# Ends with exactly one line "N passed, N failed, N skipped" summed over the
# three runners (leaf tests: describe blocks are not counted), and exits
# non-zero when a runner, the build, the type check or the manifest check failed.
# Each runner is killed (with its children) after GEARMAN_TS_RUNNER_TIMEOUT
# seconds (default 900), so a test that hangs fails the run instead of stalling it.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
export NO_COLOR=1

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
total_pass=0 total_fail=0 total_skip=0
problems=()
summaries=()
limit=${GEARMAN_TS_RUNNER_TIMEOUT:-900}
# timeout(1) runs the runner in its own process group and signals all of it.
bounded() { timeout --kill-after=10 "$limit" "$@"; }

banner() { printf '\n=== %s\n' "$*"; }

# Adds one runner's counts. A runner that exited non-zero but reported no
# failed test (a crash, a failing hook, a leak check) counts one failure.
tally() { # name exit-code pass fail skip
  local name=$1 rc=$2 pass=${3:-0} fail=${4:-0} skip=${5:-0}
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    problems+=("$name was stopped after ${limit} s (a test hangs?)")
    [[ $fail -eq 0 ]] && fail=1
  elif [[ $rc -ne 0 ]]; then
    problems+=("$name exited with $rc")
    [[ $fail -eq 0 ]] && fail=1
  fi
  summaries+=("test_all: $name: $pass passed, $fail failed, $skip skipped (exit $rc)")
  total_pass=$((total_pass + pass)) total_fail=$((total_fail + fail)) total_skip=$((total_skip + skip))
}

# The last match of a sed -E substitution "REGEX/REPLACEMENT" in a file.
last_count() { # file regex[/replacement]; default replacement \1
  local expr=$2
  [[ $expr == */* ]] || expr="$expr/\\1"
  sed -nE "s/$expr/p" "$1" | tail -n 1
}

banner "build: node scripts/build_binary.ts"
node scripts/build_binary.ts || problems+=("scripts/build_binary.ts failed")

banner "deno test -A tests/"
bounded deno test -A --junit-path="$out/deno.xml" tests/ 2>&1 | tee "$out/deno.txt"
rc=${PIPESTATUS[0]}
if [[ -s $out/deno.xml ]]; then
  # Deno reports describe blocks as tests and their its as steps; count only
  # the leaves (a testcase is a parent when another is named "<it> &gt; ...").
  read -r p f s < <(awk '
    /<testcase / {
      match($0, /name="[^"]*"/); name = substr($0, RSTART + 6, RLENGTH - 7)
      n++; names[n] = name; state[n] = "pass"; open = ($0 !~ /\/>[[:space:]]*$/)
      next
    }
    open && /<(failure|error)[ >\/]/ { state[n] = "fail" }
    open && /<skipped/ { state[n] = "skip" }
    /<\/testcase>/ { open = 0 }
    END {
      for (i = 1; i <= n; i++) parent[names[i]] = 0
      for (i = 1; i <= n; i++) {
        rest = names[i]
        while ((k = index(rest, " &gt; ")) > 0) {
          prefix = (prefix_done ? prefix " &gt; " : "") substr(rest, 1, k - 1)
          prefix_done = 1; parent[prefix] = 1; rest = substr(rest, k + 6)
        }
        prefix = ""; prefix_done = 0
      }
      for (i = 1; i <= n; i++) if (!parent[names[i]]) c[state[i]]++
      printf "%d %d %d\n", c["pass"], c["fail"], c["skip"]
    }' "$out/deno.xml")
else
  # No JUnit file (deno stopped early): fall back to its summary line,
  # "ok | N passed (M steps) | N failed | N ignored", which counts describes.
  p=$(last_count "$out/deno.txt" '^(ok|FAILED) \| ([0-9]+) passed.*/\2')
  f=$(last_count "$out/deno.txt" '^(ok|FAILED) \|.* ([0-9]+) failed.*/\2')
  s=$(last_count "$out/deno.txt" '^(ok|FAILED) \|.* ([0-9]+) ignored.*/\2')
fi
tally deno "$rc" "$p" "$f" "$s"

banner "bun test tests/"
bounded bun test tests/ 2>&1 | tee "$out/bun.txt"
rc=${PIPESTATUS[0]}
p=$(last_count "$out/bun.txt" '^ *([0-9]+) pass$')
f=$(last_count "$out/bun.txt" '^ *([0-9]+) fail$')
s=$(last_count "$out/bun.txt" '^ *([0-9]+) skip$')
t=$(last_count "$out/bun.txt" '^ *([0-9]+) todo$')
tally bun "$rc" "${p:-0}" "${f:-0}" "$(( ${s:-0} + ${t:-0} ))"

banner 'node --test "tests/**/*_test.ts"'
bounded node --test "tests/**/*_test.ts" 2>&1 | tee "$out/node.txt"
rc=${PIPESTATUS[0]}
# Node 24's spec reporter prints "ℹ pass N"; the TAP reporter "# pass N".
p=$(last_count "$out/node.txt" '^(ℹ|#) pass ([0-9]+)$/\2')
f=$(last_count "$out/node.txt" '^(ℹ|#) fail ([0-9]+)$/\2')
c=$(last_count "$out/node.txt" '^(ℹ|#) cancelled ([0-9]+)$/\2')
s=$(last_count "$out/node.txt" '^(ℹ|#) skipped ([0-9]+)$/\2')
t=$(last_count "$out/node.txt" '^(ℹ|#) todo ([0-9]+)$/\2')
tally node "$rc" "${p:-0}" "$(( ${f:-0} + ${c:-0} ))" "$(( ${s:-0} + ${t:-0} ))"

banner "tsc -p tsconfig.json"
tsc -p tsconfig.json && echo "typecheck: ok" || problems+=("typecheck (tsc -p tsconfig.json) failed")

banner "node scripts/check_manifests.ts"
node scripts/check_manifests.ts || problems+=("scripts/check_manifests.ts failed")

echo
printf '%s\n' "${summaries[@]}"
for p in "${problems[@]}"; do echo "test_all: FAILED: $p"; done
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[[ ${#problems[@]} -eq 0 && $total_fail -eq 0 ]]
