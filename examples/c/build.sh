#!/bin/sh
# Builds the C example: wasm2c translates the scalar core to C, gcc compiles it with the wasm2c
# runtime and main.c.
#
#   examples/c/build.sh [OUT_DIR]        (default OUT_DIR: examples/c/build, ignored by git)
#
# Environment: WASM (default build/unrolled.scalar.wasm; run `npm run build:wasm` first),
# CC (default gcc), WASM2C (default wasm2c), WASM_RT_DIR (the directory holding wasm-rt-impl.c;
# searched for when unset), CFLAGS (added to the compile flags).
# Produces OUT_DIR/unrolled_w2c.{c,h} (generated, never committed) and OUT_DIR/unrolled-rnn.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-"$here/build"}
wasm=${WASM:-"$root/build/unrolled.scalar.wasm"}
cc=${CC:-gcc}
wasm2c=${WASM2C:-wasm2c}

die() { echo "build.sh: $*" >&2; exit 1; }

command -v "$wasm2c" >/dev/null 2>&1 || die "wasm2c not found: install wabt (apt-get install wabt)"
command -v "$cc" >/dev/null 2>&1 || die "$cc not found: install gcc (apt-get install gcc)"
[ -f "$wasm" ] || die "$wasm not found: run \`npm run build:wasm\` first"

# The runtime: Debian's wabt package ships wasm-rt.h in /usr/include and the runtime's sources
# in /usr/share/wabt/wasm2c (also /usr/src/wasm2c); a source build of wabt has them in wasm2c/.
rt=${WASM_RT_DIR:-}
if [ -z "$rt" ]; then
  for d in /usr/share/wabt/wasm2c /usr/src/wasm2c /usr/local/share/wabt/wasm2c /usr/local/src/wasm2c \
           "$(dirname "$(command -v "$wasm2c")")/../share/wabt/wasm2c"; do
    if [ -f "$d/wasm-rt-impl.c" ]; then rt=$d; break; fi
  done
fi
[ -n "$rt" ] && [ -f "$rt/wasm-rt-impl.c" ] ||
  die "wasm-rt-impl.c not found (set WASM_RT_DIR to the directory of wabt's wasm2c runtime)"
# wasm-rt.h: next to the runtime sources (source builds) or on the default include path (Debian)
inc_rt="-I$rt"
for d in "$rt" "$rt/../include" /usr/include /usr/local/include; do
  if [ -f "$d/wasm-rt.h" ]; then inc_rt="$inc_rt -I$d"; break; fi
done

mkdir -p "$out"
echo "wasm2c $("$wasm2c" --version) → $out/unrolled_w2c.c" >&2
# -n unrolled: the symbols are Z_unrolled... whatever the file is called
"$wasm2c" "$wasm" -n unrolled -o "$out/unrolled_w2c.c"

# -ffp-contract=off: no fused multiply-add (Wasm rounds every f32 operation separately).
# The generated code and wabt's runtime are compiled without -Wextra: they trip it, and they are
# not ours. main.c must compile without a warning under -Wall -Wextra.
common="-O2 -ffp-contract=off -fno-strict-aliasing $inc_rt -I$out -I$root/include ${CFLAGS:-}"
# shellcheck disable=SC2086
"$cc" $common -c "$out/unrolled_w2c.c" -o "$out/unrolled_w2c.o"
# shellcheck disable=SC2086
"$cc" $common -c "$rt/wasm-rt-impl.c" -o "$out/wasm-rt-impl.o"
# shellcheck disable=SC2086
"$cc" $common -Wall -Wextra -c "$here/main.c" -o "$out/main.o"
# shellcheck disable=SC2086
"$cc" -O2 -o "$out/unrolled-rnn" "$out/main.o" "$out/unrolled_w2c.o" "$out/wasm-rt-impl.o" -lm
echo "built $out/unrolled-rnn" >&2
