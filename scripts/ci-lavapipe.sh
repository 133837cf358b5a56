#!/usr/bin/env bash
# Mesa 25 lavapipe (a CPU Vulkan driver) in a project-local folder, for the WebGPU tests.
# Debian 12's own lavapipe (Mesa 22.3) is rejected by Dawn, the one in bookworm-backports works.
# Nothing is installed system-wide: packages are fetched with `apt-get download` through a private
# apt state (the system's sources, apt lists and dpkg database are left alone) and unpacked with
# `dpkg-deb -x`. The mirror is the one this machine's apt sources already name.
#
#   scripts/ci-lavapipe.sh          set up (idempotent; a rerun only checks) and print the env lines
#   eval "$(scripts/ci-lavapipe.sh --env)"    set VK_DRIVER_FILES and LD_LIBRARY_PATH in this shell
#
# Env: LAVAPIPE_DIR (default <repo>/.lavapipe).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${LAVAPIPE_DIR:-$repo/.lavapipe}"
mode="${1:-}"
log() { echo "ci-lavapipe: $*" >&2; }
die() { log "error: $*"; exit 1; }

arch="$(dpkg --print-architecture 2>/dev/null)" || die "dpkg not found: this script needs a Debian-based system"
multiarch="$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -dumpmachine 2>/dev/null || echo "${arch/amd64/x86_64}-linux-gnu")"
libdir="$dest/root/usr/lib/$multiarch"
icd="$dest/lvp_icd.json"
stamp="$dest/.complete"

print_env() {
  if [ "$mode" = "--env" ]; then
    echo "export VK_DRIVER_FILES='$icd'"
    echo "export LD_LIBRARY_PATH='$libdir'\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
  else
    log "ready: $(cat "$stamp")"
    echo "VK_DRIVER_FILES=$icd"
    echo "LD_LIBRARY_PATH=$libdir"
  fi
}

# Fast path: a finished earlier run (the stamp is written last).
if [ -f "$stamp" ] && [ -f "$icd" ] && [ -f "$libdir/libvulkan_lvp.so" ]; then
  print_env
  exit 0
fi

# --- the Debian mirror and codename this machine already uses ----------------------------------
. /etc/os-release
codename="${VERSION_CODENAME:-}"
[ "${ID:-}" = debian ] && [ -n "$codename" ] || die "expected Debian (found ID=${ID:-?} VERSION_CODENAME=${codename:-?})"

mirror="" keyring=""
# deb822 files: the first stanza whose Suites include the bare codename (not -security/-updates).
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  read -r mirror keyring < <(awk -v cn="$codename" '
    function flush() { if (!found && suites_ok && uri != "") { print uri, key; found = 1 } uri = ""; key = ""; suites_ok = 0 }
    /^[ \t]*$/ { flush(); next }
    /^URIs:/ { uri = $2 }
    /^Signed-By:/ { key = $2 }
    /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == cn) suites_ok = 1 }
    END { flush() }' "$f") || true
  [ -n "$mirror" ] && break
done
# One-line format: "deb [options] URI codename components".
if [ -z "$mirror" ]; then
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    mirror="$(sed -E 's/\[[^]]*\]//' "$f" | awk -v cn="$codename" '$1 == "deb" && $3 == cn { print $2; exit }')"
    [ -n "$mirror" ] && break
  done
fi
[ -n "$mirror" ] || die "no Debian mirror for suite '$codename' found in /etc/apt/sources.list{,.d/}"
[ -n "$keyring" ] && [ -f "$keyring" ] || keyring=/usr/share/keyrings/debian-archive-keyring.gpg
log "mirror $mirror, suites $codename + $codename-backports"

# --- a private apt state: only our two suites, our own lists and cache ------------------------
aptdir="$dest/apt"
mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial" "$dest/debs"
cat > "$aptdir/sources.list" <<EOF
deb [signed-by=$keyring] $mirror $codename main
deb [signed-by=$keyring] $mirror $codename-backports main
EOF
apt_opts=(-o "Dir::Etc::SourceList=$aptdir/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache=$aptdir/cache"
  -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
apt-get "${apt_opts[@]}" -qq update >&2 || die "apt-get update failed (is the mirror reachable?)"

# The backports Mesa if the suite has one, else the release's own (newer releases ship Mesa >= 24).
target="mesa-vulkan-drivers/$codename-backports"
policy="$(apt-cache "${apt_opts[@]}" policy mesa-vulkan-drivers)"
grep -q -- "$codename-backports" <<<"$policy" || target=mesa-vulkan-drivers

# Ask apt (simulated, against this machine's dpkg database) which packages are missing or too old,
# and fetch exactly those: the Vulkan loader, the driver and the few libs it needs newer.
mapfile -t pkgs < <(apt-get "${apt_opts[@]}" install -s --no-install-recommends "$target" libvulkan1 2>/dev/null |
  awk '/^Inst / { v = $3 ~ /^\[/ ? $4 : $3; gsub(/[()]/, "", v); print $2 "=" v }')
[ "${#pkgs[@]}" -gt 0 ] || die "apt found nothing to fetch for $target"
log "fetching ${pkgs[*]}"
(cd "$dest/debs" && rm -f ./*.deb && apt-get "${apt_opts[@]}" -qq download "${pkgs[@]}" >&2) || die "apt-get download failed"

rm -rf "$dest/root"
for deb in "$dest"/debs/*.deb; do dpkg-deb -x "$deb" "$dest/root"; done
[ -f "$libdir/libvulkan_lvp.so" ] || die "libvulkan_lvp.so not found under $libdir after extraction"

# The packaged ICD json names the system path; point ours at the extracted driver.
packaged="$(ls "$dest"/root/usr/share/vulkan/icd.d/lvp_icd*.json | head -1)"
sed -E "s|\"library_path\": *\"[^\"]*\"|\"library_path\": \"$libdir/libvulkan_lvp.so\"|" "$packaged" > "$icd.tmp"
mv "$icd.tmp" "$icd"
missing="$(LD_LIBRARY_PATH="$libdir" ldd "$libdir/libvulkan_lvp.so" | grep 'not found' || true)"
[ -z "$missing" ] || die "the driver still lacks libraries: $missing"

ver="$(dpkg-deb -f "$(ls "$dest"/debs/mesa-vulkan-drivers_*.deb)" Version)"
echo "mesa-vulkan-drivers $ver ($codename, $arch)" > "$stamp"
print_env
