#!/usr/bin/env bash
# Unpacks the public mail corpora `rampart bench phish` measures against:
#   phishing:   rf-peixoto/phishing_pot (real phishing caught by honeypot
#               mailboxes; CC BY-NC 4.0), every email/*.eml;
#   legitimate: the SpamAssassin public corpus as packaged by
#               stdlib-js/datasets-spam-assassin (contents CC0 1.0):
#               easy-ham-1, easy-ham-2 and hard-ham-1.
# Give the two repositories' git directories (fetched snapshots or clones)
# as PHISHING_POT and SPAM_ASSASSIN; the messages land under $1.
set -euo pipefail
dest=${1:?usage: phish-corpus.sh DEST}
PHISHING_POT=${PHISHING_POT:-/work/.mirror/rf-peixoto+phishing_pot/repo}
SPAM_ASSASSIN=${SPAM_ASSASSIN:-/work/.mirror/stdlib-js+datasets-spam-assassin/repo}
mkdir -p "$dest/phishing" "$dest/ham"
# Copies the files of a tree one by one: a snapshot may lack its largest
# objects, which are skipped (and counted).
unpack() { # git-dir, tree path, pattern, destination
  local missing=0
  while read -r _ _ object path; do
    case "$path" in $3) ;; *) continue ;; esac
    if git --git-dir="$1" cat-file -e "$object" 2>/dev/null; then
      git --git-dir="$1" cat-file blob "$object" > "$4/$(basename "$path")"
    else
      missing=$((missing + 1))
    fi
  done < <(git --git-dir="$1" ls-tree -r HEAD "$2")
  [ "$missing" = 0 ] || echo "$2: $missing files absent from the snapshot, skipped" >&2
}
unpack "$PHISHING_POT" email '*.eml' "$dest/phishing"
for part in easy-ham-1 easy-ham-2 hard-ham-1; do
  mkdir -p "$dest/ham/$part"
  unpack "$SPAM_ASSASSIN" "data/$part" '*.txt' "$dest/ham/$part"
done
echo "phishing: $(find "$dest/phishing" -type f | wc -l) messages; legitimate: $(find "$dest/ham" -type f | wc -l) messages"
