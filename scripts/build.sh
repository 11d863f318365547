#!/usr/bin/env bash
# Builds the release library and the command-line tool, with the Swift runtime linked in
# statically (ldd shows only libc, libstdc++, libm, libjson-c and OpenBLAS):
#   .build/release/libtextmodel.so    SONAME libtextmodel.so.0; exports only the tm_*
#                                     functions (scripts/libtextmodel.map)
#   .build/release/libtextmodel.so.0  a link to it, the name programs linked with
#                                     -ltextmodel look for at run time
#   .build/release/textmodel          the command-line tool (SwiftPM product textmodel-cli)
# scripts/install.sh copies them into a PREFIX.
set -euo pipefail
cd -P "$(dirname "$0")/.."   # -P: the real repository, also when reached through a link
# -gdwarf-4: clang writes DWARF 5 debug info for the C targets by default, which
# valgrind 3.19 (Debian 12) cannot read ("Possibly corrupted debuginfo file"), so every
# valgrind run of the C tests would stop before starting.
flags=(-c release -Xswiftc -static-stdlib -Xcc -gdwarf-4)
# The SONAME and the export list are linker flags of the library alone, given here rather
# than in Package.swift: SwiftPM refuses unsafeFlags in a package used as a dependency
# (examples/swift-consumer depends on this one), and the tool must not get a SONAME.
# SwiftPM does not relink when only -Xlinker flags change: a stamp of the flags and the
# export list forces the relink when they differ from the last build's.
link_flags=(-Xlinker -soname=libtextmodel.so.0 -Xlinker "--version-script=$(pwd)/scripts/libtextmodel.map")
stamp=.build/release/.libtextmodel-link-flags
wanted="${link_flags[*]} $(cksum < scripts/libtextmodel.map)"
[ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ] || rm -f .build/release/libtextmodel.so
swift build "${flags[@]}" --product textmodel "${link_flags[@]}" "$@"
echo "$wanted" > "$stamp"
swift build "${flags[@]}" --product textmodel-cli "$@"
ln -sf libtextmodel.so .build/release/libtextmodel.so.0
cp -f .build/release/textmodel-cli .build/release/textmodel
echo "built $(pwd)/.build/release/libtextmodel.so and $(pwd)/.build/release/textmodel"
