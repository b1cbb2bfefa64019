#!/usr/bin/env bash
# Installs mimoping from an unpacked `./mimoping dist` archive: the jars and the launcher under
# /opt/mimoping, example configs in /etc/mimoping, the systemd units, and a system user `mimoping`.
#
#   sudo deploy/install.sh                      install (or upgrade: existing configs are kept)
#   sudo deploy/install.sh --uninstall          remove the program and the units; keep configs and the user
#   sudo deploy/install.sh --uninstall --purge  remove the configs and the user too
#
# Options: --prefix DIR (/opt/mimoping), --sysconfdir DIR (/etc/mimoping), --unitdir DIR
# (/etc/systemd/system), --no-user (do not create the user). DESTDIR=ROOT stages everything under ROOT
# (for packaging and tests): the units still name the final paths, and no user is created.
set -euo pipefail

PREFIX=/opt/mimoping
SYSCONFDIR=/etc/mimoping
UNITDIR=/etc/systemd/system
DESTDIR=${DESTDIR:-}
USER_NAME=mimoping
make_user=1
action=install
purge=0

die() { echo "install.sh: $*" >&2; exit 2; }

while (( $# > 0 )); do
    case "$1" in
        --prefix) PREFIX=${2:?--prefix needs a directory}; shift 2 ;;
        --prefix=*) PREFIX=${1#*=}; shift ;;
        --sysconfdir) SYSCONFDIR=${2:?--sysconfdir needs a directory}; shift 2 ;;
        --sysconfdir=*) SYSCONFDIR=${1#*=}; shift ;;
        --unitdir) UNITDIR=${2:?--unitdir needs a directory}; shift 2 ;;
        --unitdir=*) UNITDIR=${1#*=}; shift ;;
        --no-user) make_user=0; shift ;;
        --uninstall) action=uninstall; shift ;;
        --purge) purge=1; shift ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option '$1' (see --help)" ;;
    esac
done
for dir in "$PREFIX" "$SYSCONFDIR" "$UNITDIR"; do
    [[ "$dir" == /* ]] || die "directories must be absolute, got '$dir'"
done
[[ -n "$DESTDIR" ]] && make_user=0

systemd_running() { [[ -z "$DESTDIR" && -d /run/systemd/system ]] && command -v systemctl >/dev/null; }

if [[ $action == uninstall ]]; then
    if systemd_running; then
        systemctl disable --now mimoping-agent.service mimoping-hub.service 2>/dev/null || true
    fi
    rm -f "$DESTDIR$UNITDIR/mimoping-agent.service" "$DESTDIR$UNITDIR/mimoping-hub.service"
    rm -rf "${DESTDIR}${PREFIX:?}"
    if (( purge )); then
        rm -rf "${DESTDIR}${SYSCONFDIR:?}"
        if [[ -z "$DESTDIR" ]] && getent passwd "$USER_NAME" >/dev/null; then
            userdel "$USER_NAME"
        fi
    fi
    systemd_running && systemctl daemon-reload
    echo "mimoping uninstalled from $DESTDIR$PREFIX$( (( purge )) && echo ", configs and user removed" || echo "; configs kept in $DESTDIR$SYSCONFDIR")"
    exit 0
fi

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ -f "$SRC/lib/mimoping-hub.jar" && -x "$SRC/bin/mimoping" ]] \
    || die "run me from an unpacked 'mimoping dist' archive ($SRC has no lib/mimoping-hub.jar or bin/mimoping)"

if (( make_user )) && ! getent passwd "$USER_NAME" >/dev/null; then
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
        --comment "mimoping agent and hub" "$USER_NAME"
    echo "created system user $USER_NAME"
fi

# The program: replaced as a whole on upgrade.
rm -rf "${DESTDIR}${PREFIX:?}"
install -d -m 0755 "$DESTDIR$PREFIX" "$DESTDIR$PREFIX/bin" "$DESTDIR$PREFIX/lib"
cp -R "$SRC/lib/." "$DESTDIR$PREFIX/lib/"
install -m 0755 "$SRC/bin/mimoping" "$DESTDIR$PREFIX/bin/mimoping"
cp -R "$SRC/deploy" "$DESTDIR$PREFIX/deploy"
[[ -f "$SRC/README.md" ]] && install -m 0644 "$SRC/README.md" "$DESTDIR$PREFIX/README.md"
chmod -R u=rwX,go=rX "$DESTDIR$PREFIX"

# Configs: never overwritten; a newer example lands beside an existing one.
install -d -m 0750 "$DESTDIR$SYSCONFDIR"
for name in agent hub; do
    target="$DESTDIR$SYSCONFDIR/$name.properties"
    if [[ -e "$target" ]]; then
        install -m 0640 "$SRC/deploy/config/$name.properties" "$target.example"
        echo "kept $target (the new example is $target.example)"
    else
        install -m 0640 "$SRC/deploy/config/$name.properties" "$target"
    fi
done
if [[ -z "$DESTDIR" ]] && getent group "$USER_NAME" >/dev/null; then
    chgrp -R "$USER_NAME" "$SYSCONFDIR"
fi

# Units, with this installation's paths.
install -d -m 0755 "$DESTDIR$UNITDIR"
for name in agent hub; do
    sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@SYSCONFDIR@|$SYSCONFDIR|g" "$SRC/deploy/systemd/mimoping-$name.service" \
        > "$DESTDIR$UNITDIR/mimoping-$name.service"
    chmod 0644 "$DESTDIR$UNITDIR/mimoping-$name.service"
done
systemd_running && systemctl daemon-reload

cat <<DONE
mimoping installed in $DESTDIR$PREFIX (configs in $DESTDIR$SYSCONFDIR, units in $DESTDIR$UNITDIR).
Next:
  1. edit $SYSCONFDIR/hub.properties and/or $SYSCONFDIR/agent.properties (every key is explained there;
     secrets may go to $SYSCONFDIR/hub.env or agent.env as MIMOPING_AGENT_TOKEN=... lines)
  2. systemctl enable --now mimoping-hub.service      # on the hub's host
     systemctl enable --now mimoping-agent.service    # on each agent's host
  3. systemctl status mimoping-agent; curl http://127.0.0.1:7070/health/ready; curl http://127.0.0.1:7070/metrics
Uninstall: $PREFIX/deploy/install.sh --uninstall [--purge]
DONE
