#!/usr/bin/env bash
# Packs a built tree (`mvn package`) into one archive: bin/mimoping (runs without Maven), lib/ (the
# jars), deploy/ (install.sh, systemd units, example configs, docker-compose). Prints the archive's path.
#   deploy/dist.sh [OUT_DIR]      (default: dist/ at the top of the tree)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$ROOT/dist}
JAR="$ROOT/hub/target/mimoping-hub.jar"
[[ -f "$JAR" && -d "$ROOT/hub/target/libs" ]] || { echo "dist.sh: build first (mvn package): no $JAR" >&2; exit 2; }
VERSION=$(sed -n 's:^    <version>\(.*\)</version>.*:\1:p' "$ROOT/pom.xml" | head -1)
[[ -n "$VERSION" ]] || { echo "dist.sh: no version in $ROOT/pom.xml" >&2; exit 2; }
NAME="mimoping-$VERSION"

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
DIR="$STAGE/$NAME"
mkdir -p "$DIR/bin" "$DIR/lib/libs" "$DIR/deploy"
cp "$JAR" "$DIR/lib/"
# Exactly the jars the manifest's Class-Path names (target/libs may hold stale ones from older builds).
JAR_TOOL="${JAVA_HOME:-/usr}/bin/jar"
(cd "$STAGE" && "$JAR_TOOL" --extract --file "$JAR" META-INF/MANIFEST.MF)
classpath=$(tr -d '\r' < "$STAGE/META-INF/MANIFEST.MF" | sed -n '/^Class-Path:/,/^[A-Za-z-]*:/p' \
    | sed -e '/^Class-Path:/s/^Class-Path: //' -e '/^[A-Za-z-]*:/d' -e 's/^ //' | tr -d '\n')
rm -rf "$STAGE/META-INF"
for entry in $classpath; do
    cp "$ROOT/hub/target/$entry" "$DIR/lib/libs/"
done
install -m 0755 "$ROOT/mimoping" "$DIR/bin/mimoping"
cp -R "$ROOT/deploy/systemd" "$ROOT/deploy/config" "$DIR/deploy/"
install -m 0755 "$ROOT/deploy/install.sh" "$DIR/deploy/install.sh"
cp "$ROOT/deploy/docker-compose.yml" "$ROOT/deploy/Dockerfile" "$DIR/deploy/"
cp "$ROOT/README.md" "$DIR/"

mkdir -p "$OUT"
tar -C "$STAGE" -czf "$OUT/$NAME.tar.gz" "$NAME"
echo "$OUT/$NAME.tar.gz"
