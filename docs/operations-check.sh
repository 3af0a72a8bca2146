#!/usr/bin/env bash
# docs/operations-check.sh: the "Scaled out" steps of docs/operations.md, run as written on
# one machine. PostgreSQL is a throw-away pg_virtualenv cluster standing for the operator's
# server, the bucket is moto's S3 server (.ci/run installs it under target/s3-server), two
# replicas serve on 8081 and 8082, nginx (Debian's nginx-light) in front on 8443 without TLS.
#
#   cargo build -p palier-platform && pg_virtualenv -t docs/operations-check.sh
#
# It prints what the board's event stream on replica 2 received after a publish on replica
# 1, the ETag of the manifest through nginx twice, and OPS-RUN-OK.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
BIN=$repo/target/debug/palier-platform
W=$(mktemp -d /tmp/palier-operations.XXXXXX)
# 1. the database
createuser palier
psql -qc "ALTER ROLE palier PASSWORD 'secret'"
createdb --owner palier palier
# 2. a bucket
$repo/target/s3-server/bin/moto_server -H 127.0.0.1 -p 9077 >$W/moto.log 2>&1 & MOTO=$!
for _ in $(seq 50); do curl -s http://127.0.0.1:9077 >/dev/null && break; sleep 0.2; done
curl -s -X PUT http://127.0.0.1:9077/palier-media >/dev/null
# 3. the replicas
for r in 1 2; do
  install -d -m 0700 $W/r$r
  cat > $W/r$r/platform.toml <<TOML
listen = "127.0.0.1:808$r"
public_url = "https://palier.example.org"
database_url = "postgres://palier:secret@localhost:$PGPORT/palier"

[media]
s3_bucket = "palier-media"
s3_endpoint = "http://127.0.0.1:9077"
access_key_id = "palier"
secret_access_key = "palier-secret"
TOML
done
$BIN --data $W/r1 init
install -m 0600 $W/r1/signing.key $W/r2/
$BIN --data $W/r1 migrate
$BIN --data $W/r2 migrate
$BIN --data $W/r1 serve >$W/r1.out 2>$W/r1.log & R1=$!
$BIN --data $W/r2 serve >$W/r2.out 2>$W/r2.log & R2=$!
sleep 2
# nginx in front (plain HTTP on 8443 here instead of TLS)
cat > $W/nginx.conf <<NGINX
pid $W/nginx.pid; error_log $W/nginx.err;
events { worker_connections 1024; }
http {
  access_log off;
  upstream palier { server 127.0.0.1:8081; server 127.0.0.1:8082; keepalive 64; }
  server {
    listen 127.0.0.1:8443;
    client_max_body_size 33m;
    location /v1/device/events { proxy_pass http://palier; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; proxy_read_timeout 1h; }
    location / { proxy_pass http://palier; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; }
  }
}
NGINX
nginx -c $W/nginx.conf
# A building, a landlord, a board; the board enrols through nginx, listens on replica 2.
b=$($BIN --data $W/r2 building add --name "Les Tilleuls" --time-zone Europe/Paris)
$BIN --data $W/r1 building moderation --building $b --kinds "" 
landlord=$($BIN --data $W/r1 publisher add --role landlord --building $b 2>/dev/null)
code=$($BIN --data $W/r2 device code --building $b --roles lift 2>/dev/null)
token=$(curl -s -X POST http://127.0.0.1:8443/v1/device/enrol -H 'content-type: application/json' -d "{\"code\":\"$code\",\"device_name\":\"ops\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
held=$(curl -s http://127.0.0.1:8443/v1/device/manifest -H "authorization: Bearer $token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])')
curl -sN http://127.0.0.1:8082/v1/device/events -H "authorization: Bearer $token" -H "last-event-id: $held" > $W/events.txt & EV=$!
sleep 1
now=$(date -u +%FT%TZ); until=$(date -u -d '+1 day' +%FT%TZ)
curl -s -o /dev/null -w 'publish on replica 1: %{http_code}\n' -X POST http://127.0.0.1:8081/v1/publish/items -H "authorization: Bearer $landlord" -H 'content-type: application/json' \
  -d "{\"id\":\"flash-ops\",\"kind\":\"flash\",\"severity\":\"info\",\"valid_from\":\"$now\",\"valid_until\":\"$until\",\"title\":\"Essai\"}"
sleep 1
echo "--- the board's stream on replica 2 (it holds generation $held):"; cat $W/events.txt
echo "--- manifest through nginx, twice (either replica):"
for _ in 1 2; do curl -s -D - -o /dev/null http://127.0.0.1:8443/v1/device/manifest -H "authorization: Bearer $token" | grep -i '^etag'; done
$BIN --data $W/r2 export --out $W/backup.jsonl
kill $EV $R1 $R2 $MOTO; nginx -c $W/nginx.conf -s stop
rm -rf "$W"
echo OPS-RUN-OK
