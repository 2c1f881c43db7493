#!/usr/bin/env bash
# Makes Debian's Chromium available for the browser tests (no browser download by the test tool itself), with
# a small Chinese font (WenQuanYi Micro Hei, about 2 MB) so that zh-CN screenshots show characters, not boxes.
set -euo pipefail
need=()
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then need+=(chromium); fi
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then need+=(fonts-wqy-microhei); fi
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  if [[ " ${need[*]} " == *" chromium "* ]]; then
    echo "chromium is missing and this user cannot install it: apt-get install -y chromium" >&2
    exit 1
  fi
  echo "no Chinese font: zh-CN screenshots will show boxes (apt-get install -y fonts-wqy-microhei)" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
command -v chromium >/dev/null
