#!/usr/bin/env bash
# Fuzzes one parser with libFuzzer: builds Sources/convkit-fuzz instrumented (-sanitize=fuzzer) into .build/fuzz,
# then runs the target from its seeds — the generated ones in Fuzz/seeds/TARGET and the repository files listed for it
# in Fuzz/seed-sources — into a working corpus (.build/fuzz-corpus/TARGET).
#
#   Scripts/fuzz.sh TARGET [RUNS]      e.g. Scripts/fuzz.sh png 1000000
#   Scripts/fuzz.sh --list             the targets
#
# A crash leaves crash-* in .build/fuzz-artifacts/ (replay it with `swift run convkit-fuzz TARGET FILE`) and makes
# this script exit non-zero. The last line printed is libFuzzer's "Done N runs in S second(s)".
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ${1:-} == --list || $# -lt 1 ]]; then exec swift run -c release convkit-fuzz --list; fi   # the normal build lists them
bin=.build/fuzz/release/convkit-fuzz
if [[ ! -x $bin || -n ${FUZZ_REBUILD:-} ]]; then
  swift build -c release --product convkit-fuzz --scratch-path .build/fuzz \
    -Xswiftc -sanitize=fuzzer -Xswiftc -DCONVKIT_LIBFUZZER >&2
fi
target=$1 runs=${2:-1000000}
# The repository files listed for this target, linked into one folder libFuzzer reads seeds from.
sources=.build/fuzz-seeds/$target
rm -rf "$sources"; mkdir -p "$sources"
while read -r t pattern; do
  [[ $t == "$target" ]] || continue
  for f in $pattern; do if [[ -f $f ]]; then ln -s "$PWD/$f" "$sources/${f//\//_}"; fi; done
done < <(grep -v '^#' Fuzz/seed-sources)
seeds=()
if [[ -d Fuzz/seeds/$target ]]; then seeds+=("Fuzz/seeds/$target"); fi
if [[ -n $(ls -A "$sources") ]]; then seeds+=("$sources"); fi
(( ${#seeds[@]} )) || { echo "Error: no seeds for fuzz target '$target' (expected a target of Fuzz/seeds or Fuzz/seed-sources)" >&2; exit 2; }
mkdir -p ".build/fuzz-corpus/$target" .build/fuzz-artifacts
# Swift's own backtracer would catch the trap before libFuzzer can save the input: turn it off.
SWIFT_BACKTRACE=enable=no CONVKIT_FUZZ_TARGET=$target "$bin" -runs="$runs" -max_len=65536 -rss_limit_mb=2048 -timeout=20 \
  -artifact_prefix=.build/fuzz-artifacts/"$target"- -print_final_stats=1 ".build/fuzz-corpus/$target" "${seeds[@]}"
