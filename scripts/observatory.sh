#!/usr/bin/env bash
# Mozilla's HTTP Observatory (its own scanner, @mdn/mdn-http-observatory
# from npm) against Rampart's web UI as it is deployed: behind a TLS proxy
# (nginx with a certificate for localhost from a throw-away CA), plain HTTP
# redirected to HTTPS by the proxy. Prints the grade, the score and every
# test's result. Needs node/npm, nginx and openssl; not part of CI.
#   cargo build --release -p rampart && scripts/observatory.sh
set -euo pipefail
BIN=${BIN:-target/release/rampart}
OBSERVATORY=${OBSERVATORY:-1.4.8}
W=/tmp/rampart-observatory; rm -rf $W; mkdir -p $W/tool $W/pki
RAMPART_PORT=8095; HTTP_PORT=8094; HTTPS_PORT=8443

# The scanner. Its install script downloads Mozilla's CA bundle and the
# HSTS preload list from the internet; this check needs neither (the CA
# below is trusted instead, and localhost is on no preload list).
(cd $W/tool && npm install --silent --no-audit --no-fund --ignore-scripts "@mdn/mdn-http-observatory@$OBSERVATORY" >/dev/null)
echo '{}' > $W/tool/node_modules/@mdn/mdn-http-observatory/conf/hsts-preload.json

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Throw-away test CA" \
  -keyout $W/pki/ca.key -out $W/pki/ca.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
  -keyout $W/pki/site.key -out $W/pki/site.csr 2>/dev/null
printf "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n" > $W/pki/ext
openssl x509 -req -in $W/pki/site.csr -CA $W/pki/ca.pem -CAkey $W/pki/ca.key -CAcreateserial \
  -days 2 -extfile $W/pki/ext -out $W/pki/site.pem 2>/dev/null

RAMPART_ADMIN_PASSWORD=observatory-password-1 $BIN serve --listen 127.0.0.1:$RAMPART_PORT \
  --data-dir $W/data > $W/rampart.log 2>&1 &
rampart=$!
cat > $W/nginx.conf <<NGINX
daemon off;
pid $W/nginx.pid;
error_log $W/nginx-error.log;
events {}
http {
  access_log off;
  server {
    listen 127.0.0.1:$HTTP_PORT;
    return 301 https://localhost:$HTTPS_PORT\$request_uri;
  }
  server {
    listen 127.0.0.1:$HTTPS_PORT ssl;
    server_name localhost;
    ssl_certificate $W/pki/site.pem;
    ssl_certificate_key $W/pki/site.key;
    location / {
      proxy_pass http://127.0.0.1:$RAMPART_PORT;
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-Proto https;
    }
  }
}
NGINX
nginx -c $W/nginx.conf &
proxy=$!
trap 'kill $rampart $proxy 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf 127.0.0.1:$RAMPART_PORT/health >/dev/null && break; sleep 0.2; done
sleep 0.5

# The scanner's own `scan`, with the ports given (its CLI takes none).
cat > $W/tool/scan.mjs <<'JS'
import { retrieve } from "@mdn/mdn-http-observatory/src/retriever/retriever.js";
import { ALL_TESTS } from "@mdn/mdn-http-observatory/src/constants.js";
import { MINIMUM_SCORE_FOR_EXTRA_CREDIT } from "@mdn/mdn-http-observatory/src/grader/charts.js";
import { getGradeForScore, getScoreModifier } from "@mdn/mdn-http-observatory/src/grader/grader.js";
const [host, httpPort, httpsPort] = process.argv.slice(2);
const r = await retrieve(host, { httpPort, httpsPort });
if (!r.responses.auto) throw new Error("the site seems to be down");
let withCredit = 100, uncurved = 100;
for (const test of ALL_TESTS) {
  const result = test(r);
  const modifier = getScoreModifier(result.result);
  withCredit += modifier;
  if (modifier < 0) uncurved += modifier;
  console.log(`${result.pass ? "pass" : "FAIL"} ${String(modifier).padStart(4)}  ${result.constructor.name}: ${result.result}`);
}
const score = uncurved >= MINIMUM_SCORE_FOR_EXTRA_CREDIT ? withCredit : uncurved;
const final = getGradeForScore(score);
console.log(`grade ${final.grade}, score ${final.score} (HTTP status ${r.responses.auto.status} at ${r.responses.auto.request?.path ?? "/"})`);
JS
cd $W/tool && NODE_EXTRA_CA_CERTS=$W/pki/ca.pem node scan.mjs localhost $HTTP_PORT $HTTPS_PORT
