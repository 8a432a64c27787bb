#!/usr/bin/env bash
# test-install.sh - install the build into a scratch DESTDIR and check that an
# application finds the meta library through pkg-config alone: meta-app.c includes
# <gst/deit/gstdeitclassifymeta.h>, is compiled with `pkg-config --cflags --libs
# gstdeitmeta-1.0` and reads the results of the installed plugin.
#
# Usage: test-install.sh MESON BUILD_DIR SOURCE_DIR WORK_DIR MODEL_DIR
set -euo pipefail
meson=$1 build=$2 src=$3 work=$4 model=$5
[ -f "$model/config.json" ] || { echo "no test checkpoint (torch missing?)"; exit 77; }
cc=${CC:-cc}

rm -rf "$work"; mkdir -p "$work"
"$meson" install -C "$build" --destdir "$work/root" --no-rebuild --quiet

pc=$(find "$work/root" -name gstdeitmeta-1.0.pc | head -1)
[ -n "$pc" ] || { echo "FAIL: gstdeitmeta-1.0.pc not installed"; exit 1; }
# relocate the installed .pc file to the scratch root (only this one: the GStreamer
# and GLib .pc files keep pointing at the system)
mkdir -p "$work/pc"
sed "s|^prefix=\(.*\)|prefix=$work/root\1|" "$pc" > "$work/pc/gstdeitmeta-1.0.pc"
flags=$(PKG_CONFIG_PATH="$work/pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" \
          pkg-config --cflags --libs gstdeitmeta-1.0)
echo "pkg-config: $flags"
# shellcheck disable=SC2086
"$cc" -o "$work/meta-app" "$src/meta-app.c" $flags

plugin=$(find "$work/root" -name libgstdeit.so | head -1)
[ -n "$plugin" ] || { echo "FAIL: libgstdeit.so not installed"; exit 1; }
libdir=$(dirname "$(find "$work/root" -name 'libgstdeitmeta-1.0.so' | head -1)")
# the installed plugin only (plus the system's videotestsrc, videoconvert, ...)
GST_PLUGIN_PATH_1_0="$(dirname "$plugin"):${GST_SYSTEM_PLUGINS_DIR:-}" \
  GST_PLUGIN_SYSTEM_PATH_1_0= \
  LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
  "$work/meta-app" "$model"
