#!/usr/bin/env bash
# Installs the optional Debian packages some features and tests use, where they are missing:
#   espeak-ng, lame — the offline speech synthesis of voice replies (its tests skip without them)
#   pocketsphinx, pocketsphinx-en-us, sox, faad — the offline speech recognition of voice input
#                     (English only; lame decodes MP3, faad AAC/M4A, sox resamples to 16 kHz mono)
#   nginx           — the deployment test that runs deploy/nginx in front of two servers
# Needs apt-get and root (or sudo). It never fails: what cannot be installed is reported, and the
# tests that need it say they were skipped and why.
set -u
missing=()
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
command -v lame >/dev/null 2>&1 || missing+=(lame)
command -v pocketsphinx_continuous >/dev/null 2>&1 || missing+=(pocketsphinx)
[ -d /usr/share/pocketsphinx/model/en-us/en-us ] || missing+=(pocketsphinx-en-us)
command -v sox >/dev/null 2>&1 || missing+=(sox)
command -v faad >/dev/null 2>&1 || missing+=(faad)
command -v nginx >/dev/null 2>&1 || missing+=(nginx)
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-packages: apt-get not found; install ${missing[*]} yourself (their tests will be skipped)" >&2
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo -n"
echo "system-packages: installing ${missing[*]}" >&2
if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"; } >&2; then
  echo "system-packages: could not install ${missing[*]} (their tests will be skipped)" >&2
fi
exit 0
