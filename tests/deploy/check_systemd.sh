#!/usr/bin/env bash
# check_systemd.sh BUILD_DIR SOURCE_DIR: the systemd side of the install, without a running
# systemd (CI machines have none):
#   - `systemd-analyze verify` accepts the unit, with and without the capabilities drop-in, and
#     prints nothing at all (an unknown key or a bad value is a warning there, not an error);
#   - the generator grants CAP_NET_BIND_SERVICE exactly when a port is below 1024;
#   - `cmake --install` puts every file where the unit and the README say;
#   - `b2bua --version` names the commit the tree is at.
set -euo pipefail
build="$(cd "$1" && pwd)"
source_dir="$(cd "$2" && pwd)"
b2bua="$build/bin/b2bua"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "check_systemd: FAIL: $*" >&2; exit 1; }

# The unit as installed, its programs pointed at the build (verify checks they are executable).
unit_dir="$work/units"
mkdir -p "$unit_dir"
sed "s|^\(ExecStart[A-Za-z]*=\)[^ ]*/b2bua |\1$b2bua |" "$build/deploy/b2bua.service" > "$unit_dir/b2bua.service"
grep -q "^ExecStart=$b2bua --config " "$unit_dir/b2bua.service" || fail "ExecStart not found in the unit"

verify() {
    local out
    out="$(cd "$work" && systemd-analyze verify --man=no "$unit_dir/b2bua.service" 2>&1)" || fail "systemd-analyze verify: $out"
    [[ -z "$out" ]] || fail "systemd-analyze verify printed (each line is a defect): $out"
}
verify
echo "check_systemd: systemd-analyze verify: unit OK"
# systemd's own measure of the sandbox: 0 (locked down) to 10 (none); above 2.0 fails.
out="$(cd "$work" && systemd-analyze security --offline=yes --no-pager --threshold=20 "$unit_dir/b2bua.service" 2>&1)" \
    || fail "systemd-analyze security: exposure above 2.0: $(echo "$out" | grep -E '✗|Overall')"
echo "check_systemd: $(echo "$out" | grep -o 'Overall exposure level.*')"

# The sandbox the issue asks for, as systemd will read it.
for key in "Type=notify" "WatchdogSec=" "ExecReload=" "Restart=on-failure" "ProtectSystem=strict" "ProtectHome=yes" \
           "PrivateTmp=yes" "NoNewPrivileges=yes" "CapabilityBoundingSet=$" "StateDirectory=b2bua" "User=b2bua"; do
    grep -q "^$key" "$unit_dir/b2bua.service" || fail "the unit lacks $key"
done
drain_default=30
stop_timeout="$(sed -n 's/^TimeoutStopSec=//p' "$unit_dir/b2bua.service")"
((stop_timeout > drain_default + 10)) || fail "TimeoutStopSec=$stop_timeout is not above calls.drain_s ($drain_default s) and the unregistrations"

# The generator: nothing for ports above 1023, CAP_NET_BIND_SERVICE for one below.
generator="$build/deploy/b2bua-capabilities"
config() {  # config FILE SIP_PORT HTTP_PORT
    cat > "$1" <<YAML
sip:
  listen: [ "udp://127.0.0.1:$2" ]
downstream: { realm: test, users: [] }
upstream: { trunks: [] }
routes: []
http: { listen: "127.0.0.1:$3" }
data_dir: $work/data
YAML
}
config "$work/high.yaml" 5060 8090
B2BUA_BIN="$b2bua" B2BUA_CONFIG="$work/high.yaml" "$generator" "$work/gen-high" "$work/early" "$work/late"
[[ ! -e "$work/gen-high/b2bua.service.d" ]] || fail "the generator granted a capability for ports 5060 and 8090"
config "$work/low.yaml" 5060 80
B2BUA_BIN="$b2bua" B2BUA_CONFIG="$work/low.yaml" "$generator" "$work/gen-low" "$work/early" "$work/late"
dropin="$work/gen-low/b2bua.service.d/50-capabilities.conf"
[[ -f "$dropin" ]] || fail "no drop-in for the HTTP server on port 80"
grep -qx "CapabilityBoundingSet=CAP_NET_BIND_SERVICE" "$dropin" || fail "drop-in: $(cat "$dropin")"
grep -qx "AmbientCapabilities=CAP_NET_BIND_SERVICE" "$dropin" || fail "drop-in: $(cat "$dropin")"
mkdir -p "$unit_dir/b2bua.service.d" && cp "$dropin" "$unit_dir/b2bua.service.d/"
verify
# The drop-in is read by verify (a control: a key it does not know must be reported).
printf '[Service]\nNoSuchKey=1\n' > "$unit_dir/b2bua.service.d/99-control.conf"
out="$(cd "$work" && systemd-analyze verify --man=no "$unit_dir/b2bua.service" 2>&1 || true)"
[[ "$out" == *NoSuchKey* ]] || fail "systemd-analyze verify did not read the drop-in directory"
rm "$unit_dir/b2bua.service.d/99-control.conf"
echo "check_systemd: generator: no capability for 5060/8090, CAP_NET_BIND_SERVICE for port 80; verify OK"

# A generator must never fail the boot: a broken configuration writes nothing and exits 0.
echo "sip: [" > "$work/broken.yaml"
B2BUA_BIN="$b2bua" B2BUA_CONFIG="$work/broken.yaml" "$generator" "$work/gen-broken" || fail "the generator failed on a broken configuration"
[[ ! -e "$work/gen-broken/b2bua.service.d" ]] || fail "the generator wrote a drop-in for a broken configuration"

# The install tree.
DESTDIR="$work/root" cmake --install "$build" > "$work/install.log" || fail "cmake --install: $(cat "$work/install.log")"
prefix="$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")"
sysconf="$prefix/etc"; [[ "$prefix" == /usr ]] && sysconf=/etc
for f in "$prefix/bin/b2bua" "$prefix/bin/b2buactl" "$prefix/lib/systemd/system/b2bua.service" \
         "$prefix/lib/systemd/system-generators/b2bua-capabilities" "$prefix/lib/sysctl.d/60-b2bua.conf" \
         "$sysconf/b2bua/b2bua.yaml" "$prefix/share/doc/b2bua/LICENSE" \
         "$prefix/share/b2bua/prometheus/rules/b2bua-alerts.yml" "$prefix/share/b2bua/grafana/dashboards/b2bua.json"; do
    [[ -e "$work/root$f" ]] || fail "cmake --install did not install $f"
done
[[ -x "$work/root$prefix/lib/systemd/system-generators/b2bua-capabilities" ]] || fail "the generator is not executable"
grep -q "^ExecStart=$prefix/bin/b2bua --config $sysconf/b2bua/b2bua.yaml$" "$work/root$prefix/lib/systemd/system/b2bua.service" \
    || fail "the installed unit does not start $prefix/bin/b2bua with $sysconf/b2bua/b2bua.yaml"
"$b2bua" --check-config "$source_dir/deploy/b2bua.yaml" > /dev/null || fail "the example configuration does not pass --check-config"
# The sysctl drop-in names keys this kernel has.
while read -r key _ value; do
    [[ -z "$key" || "$key" == \#* ]] && continue
    [[ -e "/proc/sys/${key//.//}" ]] || fail "60-b2bua.conf: no sysctl $key"
    ((value >= 4194304)) || fail "60-b2bua.conf: $key = $value is below the 4 MiB the transport asks for"
done < "$source_dir/deploy/systemd/60-b2bua.conf"
echo "check_systemd: cmake --install: every file in place under $prefix"

# --version names the commit (git describe at build time; the tree may not change in between).
if git -C "$source_dir" rev-parse --git-dir > /dev/null 2>&1; then
    want="b2bua $(sed -n 's/^project(b2bua VERSION \([0-9.]*\).*/\1/p' "$source_dir/CMakeLists.txt") (commit $(git -C "$source_dir" describe --always --dirty --abbrev=12))"
    got="$("$b2bua" --version)"
    [[ "$got" == "$want" ]] || fail "b2bua --version says '$got', the tree is '$want' (rebuild?)"
    got="$("$build/bin/b2buactl" --version)"
    [[ "$got" == "b2buactl ${want#b2bua }" ]] || fail "b2buactl --version says '$got'"
    echo "check_systemd: --version: $want"
fi
echo "check_systemd: OK"
