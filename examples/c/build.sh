#!/bin/sh
# Builds the C example: wasm2c (the npm package, run by Node) translates the scalar core to C, and
# the C compiler `cc` compiles it with the package's wasm2c runtime and main.c.
#
#   examples/c/build.sh [OUT_DIR]        (default OUT_DIR: examples/c/build, ignored by git)
#
# Environment: WASM (default build/unrolled.scalar.wasm; run `npm run build:wasm` first),
# CC (default cc), NODE (default node), WASM2C_DIR (the wasm2c package's directory, holding
# wasm2c.js and the runtime; resolved from the repository's node_modules when unset), CFLAGS
# (added to the compile flags).
# Produces OUT_DIR/unrolled_w2c.{c,h} (generated, never committed) and OUT_DIR/unrolled-rnn.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-"$here/build"}
wasm=${WASM:-"$root/build/unrolled.scalar.wasm"}
cc=${CC:-cc}
node=${NODE:-node}

die() { echo "build.sh: $*" >&2; exit 1; }

command -v "$node" >/dev/null 2>&1 || die "$node not found: Node.js runs wasm2c"
command -v "$cc" >/dev/null 2>&1 || die "no C compiler: \`$cc\` is not on PATH (set CC to use another)"
[ -f "$wasm" ] || die "$wasm not found: run \`npm run build:wasm\` first"

# Node's own module resolution, from the repository, finds the package wherever npm put it
# (a hoisted node_modules of a workspace included), which a fixed path would not.
w2c=${WASM2C_DIR:-}
if [ -z "$w2c" ]; then
  pkg=$("$node" -e 'process.stdout.write(require("module").createRequire(process.argv[1]).resolve("wasm2c/package.json"))' \
    "$root/package.json" 2>/dev/null) || die "the npm package wasm2c is not installed: run \`npm install\` in $root"
  w2c=$(dirname "$pkg")
fi
for f in wasm2c.js wasm-rt.h wasm-rt-impl.h wasm-rt-impl.c; do
  [ -f "$w2c/$f" ] || die "$w2c/$f not found (WASM2C_DIR must be the wasm2c npm package's directory)"
done

mkdir -p "$out"
echo "wasm2c $("$node" "$w2c/wasm2c.js" --version) → $out/unrolled_w2c.c" >&2
# The package is an emscripten build with direct access to the host's file system: plain paths.
"$node" "$w2c/wasm2c.js" "$wasm" -o "$out/unrolled_w2c.c"

# -DWASM_RT_MODULE_PREFIX=unrolled_: the generated globals would otherwise be `init` and
# `Z_allocZ_ii`, open to clashes with anything else linked in; include/unrolled.h declares the
# prefixed names, so every unit must see the same prefix.
# -ffp-contract=off: no fused multiply-add (Wasm rounds every f32 operation separately).
# The generated code and the runtime are compiled without -Wall -Wextra: they trip them, and
# they are not ours. main.c must compile without a warning under -Wall -Wextra.
# The flags go through "$@" so that directories with spaces survive; CFLAGS is split on purpose.
set -- -O2 -ffp-contract=off -fno-strict-aliasing -DWASM_RT_MODULE_PREFIX=unrolled_ \
  "-I$w2c" "-I$out" "-I$root/include"
# shellcheck disable=SC2086
"$cc" "$@" ${CFLAGS:-} -c "$out/unrolled_w2c.c" -o "$out/unrolled_w2c.o"
# shellcheck disable=SC2086
"$cc" "$@" ${CFLAGS:-} -c "$w2c/wasm-rt-impl.c" -o "$out/wasm-rt-impl.o"
# shellcheck disable=SC2086
"$cc" "$@" ${CFLAGS:-} -Wall -Wextra -c "$here/main.c" -o "$out/main.o"
# shellcheck disable=SC2086
"$cc" -O2 ${CFLAGS:-} -o "$out/unrolled-rnn" "$out/main.o" "$out/unrolled_w2c.o" "$out/wasm-rt-impl.o" -lm
echo "built $out/unrolled-rnn" >&2
