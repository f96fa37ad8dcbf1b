#!/usr/bin/env bash
# Generates the key material the split compose topology (docker-compose.split.yaml) mounts:
#
#   secrets/cluster.{key,pub}      handler cluster key pair (Noise IK/KK static)
#   secrets/exit-{us,eu,asia}.{key,pub}  one key pair per exit (Noise KK static)
#   secrets/alice.{key,pub}        the seeded user "alice" (the client's key)
#   secrets/admin.token            admin API bearer token (also APFSDS_ADMIN_TOKEN in .env)
#   secrets/tls/{fullchain.pem,privkey.pem,ca.pem}  handler certificate for h1, h2, h3 and
#                                  localhost, signed by a throwaway CA (secrets/ca/ca.key)
#   .env                           APFSDS_ADMIN_TOKEN, GRAFANA_ADMIN_PASSWORD, APFSDS_UID
#
# Usage: deploy/compose/init-secrets.sh [OUT_DIR]   (default: this directory)
# Existing files are kept, so running it again never rotates a key behind your back; delete a
# file to regenerate it. Private files are 0600 in a 0700 directory. Needs node (keys come from
# `apfsds keygen` in this checkout: run `npm ci && npm run build` first) and openssl (the TLS
# certificate).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${1:-$here}"
secrets="$out/secrets"

umask 077
mkdir -p "$secrets/tls" "$secrets/ca"
chmod 0700 "$secrets" "$secrets/ca"
# The TLS directory is bind-mounted into the handlers; its files stay 0600 (key) / 0644 (certs).
chmod 0755 "$secrets/tls"

apfsds() {
  # The checkout's `apfsds` bin: the compiled dist/cli/main.js after `npm run build`, or in a
  # development checkout that was never built, the sources through tsx.
  node "$repo/cli/bin.mjs" "$@"
}

keypair() {
  local prefix="$secrets/$1"
  if [[ -f "$prefix.key" && -f "$prefix.pub" ]]; then
    echo "kept      $prefix.key"
    return
  fi
  rm -f "$prefix.key" "$prefix.pub"
  apfsds keygen --out "$prefix" >/dev/null
  # The config loader warns about any key file others can read, public ones included.
  chmod 0600 "$prefix.pub"
  echo "generated $prefix.key"
}

random_text() {
  # 32 random bytes as unpadded base64url (URL- and env-safe).
  openssl rand -base64 32 | tr '+/' '-_' | tr -d '=\n'
}

for name in cluster exit-us exit-eu exit-asia alice; do
  keypair "$name"
done

if [[ ! -s "$secrets/admin.token" ]]; then
  random_text >"$secrets/admin.token"
  echo "generated $secrets/admin.token"
fi

tls="$secrets/tls"
if [[ ! -s "$tls/fullchain.pem" || ! -s "$tls/privkey.pem" || ! -s "$tls/ca.pem" ]]; then
  ca="$secrets/ca"
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 -days 825 \
    -subj "/CN=APFSDS compose dev CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$ca/ca.key" -out "$tls/ca.pem" 2>/dev/null
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 \
    -subj "/CN=h1" -keyout "$tls/privkey.pem" -out "$ca/server.csr" 2>/dev/null
  printf '%s\n' \
    'basicConstraints=critical,CA:FALSE' \
    'keyUsage=critical,digitalSignature' \
    'extendedKeyUsage=serverAuth' \
    'subjectAltName=DNS:h1,DNS:h2,DNS:h3,DNS:localhost,IP:127.0.0.1,IP:::1' >"$ca/server.ext"
  openssl x509 -req -in "$ca/server.csr" -CA "$tls/ca.pem" -CAkey "$ca/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 825 -sha256 -extfile "$ca/server.ext" \
    -out "$ca/server.pem" 2>/dev/null
  cat "$ca/server.pem" "$tls/ca.pem" >"$tls/fullchain.pem"
  rm -f "$ca/server.csr" "$ca/server.ext" "$ca/server.pem"
  chmod 0644 "$tls/fullchain.pem" "$tls/ca.pem"
  chmod 0600 "$tls/privkey.pem" "$ca/ca.key"
  echo "generated $tls/fullchain.pem (h1, h2, h3, localhost)"
fi

# Compose bind-mounts these files with their host owner and mode (0600), so the containers run
# as the uid that owns them. Root-owned files go to the image's uid 10001 instead.
uid="$(id -u)"
if [[ "$uid" == 0 ]]; then
  chown -R 10001:10001 "$secrets"
  uid=10001
fi

env_file="$out/.env"
if [[ ! -s "$env_file" ]]; then
  {
    echo "# Written by init-secrets.sh; read by docker compose. Keep it private (mode 0600)."
    echo "APFSDS_ADMIN_TOKEN=$(cat "$secrets/admin.token")"
    echo "GRAFANA_ADMIN_PASSWORD=$(random_text)"
    echo "APFSDS_UID=$uid"
  } >"$env_file"
  chmod 0600 "$env_file"
  echo "generated $env_file"
fi
