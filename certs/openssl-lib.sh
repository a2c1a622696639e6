# shellcheck shell=bash
# Shared by gen-dev-certs.sh and gen-deploy-certs.sh (sourced, not run):
# an ECDSA P-256 CA and serving certificates it signs, with openssl only.

# new_ca KEY_OUT CRT_OUT COMMON_NAME DAYS
new_ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$1" -out "$2" -days "$4" -subj "/CN=$3" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

# new_serving_cert CA_CRT CA_KEY KEY_OUT CRT_OUT COMMON_NAME DAYS SANS
# SANS is an openssl subjectAltName value: "DNS:a,DNS:b,IP:127.0.0.1".
new_serving_cert() {
  local work
  work=$(mktemp -d)
  cat > "$work/ext.cnf" <<CNF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$7
CNF
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$3" -out "$work/csr" -subj "/CN=$5" 2>/dev/null
  openssl x509 -req -in "$work/csr" -CA "$1" -CAkey "$2" -set_serial "0x$(openssl rand -hex 8)" \
    -days "$6" -extfile "$work/ext.cnf" -out "$4" 2>/dev/null
  local rc=$?
  rm -rf "$work"
  return $rc
}

# service_sans SERVICE NAMESPACE: the four names a Service is reached by.
service_sans() {
  echo "DNS:$1,DNS:$1.$2,DNS:$1.$2.svc,DNS:$1.$2.svc.cluster.local"
}
