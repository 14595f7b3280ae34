#!/bin/sh
# Install the built bundle (dist/vsearch) for the current user: the folder under
# ~/.local/opt/vsearch, launchers in ~/.local/bin, the .desktop entry and the icons.
# Usage: packaging/install-linux.sh [BUNDLE_DIR]     (uninstall: packaging/install-linux.sh --uninstall)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=${XDG_DATA_HOME:-$HOME/.local/share}
OPT=$HOME/.local/opt/vsearch
BIN=$HOME/.local/bin
if [ "${1:-}" = "--uninstall" ]; then
    rm -rf "$OPT" "$BIN/vsearch" "$BIN/vsearch-gui" "$PREFIX/applications/vsearch.desktop"
    find "$PREFIX/icons/hicolor" -name vsearch.png -delete 2>/dev/null || true
    rm -f "$PREFIX/icons/hicolor/scalable/apps/vsearch.svg"
    echo "vsearch removed (your library and settings are kept)."
    exit 0
fi
SRC=${1:-$ROOT/dist/vsearch}
[ -x "$SRC/vsearch-gui" ] || { echo "no bundle at $SRC: run 'make package' first" >&2; exit 1; }
mkdir -p "$OPT" "$BIN" "$PREFIX/applications" "$PREFIX/icons/hicolor/scalable/apps"
rm -rf "$OPT" && cp -a "$SRC" "$OPT"
ln -sf "$OPT/vsearch" "$BIN/vsearch"
ln -sf "$OPT/vsearch-gui" "$BIN/vsearch-gui"
sed -e "s|^Exec=.*|Exec=$OPT/vsearch-gui|" -e "s|^TryExec=.*|TryExec=$OPT/vsearch-gui|" \
    "$ROOT/resources/vsearch.desktop" > "$PREFIX/applications/vsearch.desktop"
for d in "$ROOT"/resources/icons/hicolor/*/apps; do
    size=$(basename "$(dirname "$d")")
    mkdir -p "$PREFIX/icons/hicolor/$size/apps"
    cp "$d/vsearch.png" "$PREFIX/icons/hicolor/$size/apps/vsearch.png"
done
cp "$ROOT/resources/vsearch.svg" "$PREFIX/icons/hicolor/scalable/apps/vsearch.svg"
command -v update-desktop-database >/dev/null && update-desktop-database "$PREFIX/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q "$PREFIX/icons/hicolor" || true
echo "installed: $OPT (vsearch and vsearch-gui in $BIN, menu entry 'vsearch')"
