#!/usr/bin/env bash
# Installs what scripts/build.sh built into a prefix (default /usr/local):
#   PREFIX/lib/libtextmodel.so.X.Y.Z        the library (SONAME libtextmodel.so.X)
#   PREFIX/lib/libtextmodel.so.X -> ...     the name programs load at run time
#   PREFIX/lib/libtextmodel.so -> ...       the name the linker finds for -ltextmodel
#   PREFIX/include/textmodel.h              the header
#   PREFIX/lib/pkgconfig/textmodel.pc       for pkg-config --cflags --libs textmodel
#   PREFIX/bin/textmodel                    the command-line tool
# Usage: scripts/install.sh [PREFIX]   (or PREFIX=... scripts/install.sh, or
#        make install PREFIX=...; DESTDIR is honoured for staged installs)
# It builds nothing: run scripts/build.sh first.
set -euo pipefail
cd -P "$(dirname "$0")/.."   # -P: the real repository, also when reached through a link
prefix="${1:-${PREFIX:-/usr/local}}"
dest="${DESTDIR:-}"
release=.build/release
for built in "$release/libtextmodel.so" "$release/textmodel"; do
  [ -f "$built" ] || { echo "install.sh: $built is missing: run scripts/build.sh first" >&2; exit 1; }
done

# The version, from the header's macros (the one place it is written).
macro() { sed -n "s/^#define TEXTMODEL_VERSION_$1 \([0-9]*\).*/\1/p" include/textmodel.h; }
major=$(macro MAJOR) minor=$(macro MINOR) patch=$(macro PATCH)
version="$major.$minor.$patch"
soname=$(readelf -d "$release/libtextmodel.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" != "libtextmodel.so.$major" ]; then
  echo "install.sh: $release/libtextmodel.so has SONAME '$soname', expected libtextmodel.so.$major (build it with scripts/build.sh)" >&2
  exit 1
fi

lib="$dest$prefix/lib" inc="$dest$prefix/include" bin="$dest$prefix/bin" pc="$dest$prefix/lib/pkgconfig"
mkdir -p "$lib" "$inc" "$bin" "$pc"
install -m 755 "$release/libtextmodel.so" "$lib/libtextmodel.so.$version"
ln -sf "libtextmodel.so.$version" "$lib/libtextmodel.so.$major"
ln -sf "libtextmodel.so.$major" "$lib/libtextmodel.so"
install -m 644 include/textmodel.h "$inc/textmodel.h"
install -m 755 "$release/textmodel" "$bin/textmodel"
# The library's own dependencies (json-c, OpenBLAS) are shared libraries it names
# itself, so a program that uses only textmodel.h links with -ltextmodel alone.
cat > "$pc/textmodel.pc" <<PC
prefix=$prefix
exec_prefix=\${prefix}
libdir=\${exec_prefix}/lib
includedir=\${prefix}/include

Name: textmodel
Description: libtextmodel, a text-model engine (train, evaluate, save, predict) with a C API
Version: $version
Libs: -L\${libdir} -ltextmodel
Cflags: -I\${includedir}
PC
chmod 644 "$pc/textmodel.pc"
echo "installed libtextmodel $version into $dest$prefix"
