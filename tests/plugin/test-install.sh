#!/usr/bin/env bash
# test-install.sh - what `meson install` gives a user:
#  1. configured with GStreamer's own prefix (-Dprefix=/usr on Debian), the plugin's install
#     path is GStreamer's pluginsdir from gstreamer-1.0.pc, so gst-inspect-1.0 finds it
#     with no GST_PLUGIN_PATH (a configure-only build dir, read with meson introspect);
#  2. the build installed into a scratch DESTDIR: gst-inspect-1.0 deitclassify loads the
#     installed plugin found as a system plugin directory, not through GST_PLUGIN_PATH,
#     and without LD_LIBRARY_PATH (the plugin's RUNPATH finds libgstdeitmeta-1.0.so);
#  3. an application finds the meta library through pkg-config alone: meta-app.c includes
#     <gst/deit/gstdeitclassifymeta.h>, is compiled with `pkg-config --cflags --libs
#     gstdeitmeta-1.0` and reads the results of the installed plugin.
#
# Usage: test-install.sh MESON BUILD_DIR SOURCE_DIR WORK_DIR MODEL_DIR
set -euo pipefail
meson=$1 build=$2 src=$3 work=$4 model=$5
[ -f "$model/config.json" ] || { echo "no test checkpoint (torch missing?)"; exit 77; }
cc=${CC:-cc}

rm -rf "$work"; mkdir -p "$work"

gst_prefix=$(pkg-config --variable=prefix gstreamer-1.0)
gst_pluginsdir=$(pkg-config --variable=pluginsdir gstreamer-1.0)
top=$(cd "$src/../.." && pwd)
"$meson" setup "$work/prefix-build" "$top" -Dprefix="$gst_prefix" -Dtests=disabled >/dev/null
dest=$("$meson" introspect "$work/prefix-build" --installed |
         /usr/bin/python3 -c 'import json, sys; print("\n".join(v for k, v in json.load(sys.stdin).items() if k.endswith("/libgstdeit.so")))')
echo "prefix $gst_prefix: libgstdeit.so installs to $dest"
[ "$dest" = "$gst_pluginsdir/libgstdeit.so" ] ||
  { echo "FAIL: expected $gst_pluginsdir/libgstdeit.so (gstreamer-1.0.pc pluginsdir)"; exit 1; }
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
# the installed plugin directory as if it were the system's (no GST_PLUGIN_PATH at all),
# and no LD_LIBRARY_PATH: the plugin finds libgstdeitmeta-1.0.so beside its directory
# through its RUNPATH ($ORIGIN/..), as it must in a user's own prefix
inspect=$(env -u GST_PLUGIN_PATH -u GST_PLUGIN_PATH_1_0 -u LD_LIBRARY_PATH \
  GST_PLUGIN_SYSTEM_PATH_1_0="$(dirname "$plugin"):${GST_SYSTEM_PLUGINS_DIR:-}" \
  gst-inspect-1.0 deitclassify 2>&1) ||
  { echo "FAIL: gst-inspect-1.0 deitclassify on the installed plugin:"; echo "$inspect"; exit 1; }
echo "$inspect" | grep -q "$(dirname "$plugin")/libgstdeit.so" ||
  { echo "FAIL: gst-inspect-1.0 did not load the installed copy:"; echo "$inspect" | head -20; exit 1; }
echo "gst-inspect-1.0 deitclassify: loaded $(dirname "$plugin")/libgstdeit.so"
# the installed plugin only (plus the system's videotestsrc, videoconvert, ...)
GST_PLUGIN_PATH_1_0="$(dirname "$plugin"):${GST_SYSTEM_PLUGINS_DIR:-}" \
  GST_PLUGIN_SYSTEM_PATH_1_0= \
  LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
  "$work/meta-app" "$model"
