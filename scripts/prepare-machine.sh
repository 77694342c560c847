#!/usr/bin/env bash
# What the test suite needs from the machine, brought up when missing so that `npm test` is the
# only command to run: PostgreSQL and Redis started when down, and Debian's Chromium (browser
# suites), fonts-noto-cjk (Chinese pages render as text, not boxes), HAProxy (the cluster suite)
# and SimpleSAMLphp with php-cli/xml/mbstring/curl (the SAML suites' IdP) installed when absent. Fast and silent when everything is already there; safe to run twice.
set -euo pipefail

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  if command -v redis-server >/dev/null; then
    echo "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  fi
fi

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/haproxy ] || missing+=(haproxy)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
# The SAML suites' real IdP: SimpleSAMLphp under PHP's built-in server (Apache is not started).
[ -d /usr/share/simplesamlphp/www ] || missing+=(simplesamlphp)
command -v php >/dev/null || missing+=(php-cli)
if command -v php >/dev/null; then
  php -m 2>/dev/null | grep -qx dom || missing+=(php-xml)
  php -m 2>/dev/null | grep -qx mbstring || missing+=(php-mbstring)
  php -m 2>/dev/null | grep -qx curl || missing+=(php-curl)
else
  missing+=(php-xml php-mbstring php-curl)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${missing[*]} (Debian packages the suites use)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "The test suite needs these Debian packages: ${missing[*]}. Install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
