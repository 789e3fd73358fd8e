#!/bin/sh
# infra/key-ring-certificate.sh: prints a new self-signed certificate with its private key as base64 PKCS#12 (no
# password), for FENTA_KEY_RING_CERTIFICATE: the apps encrypt the Data Protection key ring that protects the platforms'
# tokens to it (src/Runs/Publishing/TokenProtection.cs). infra/deploy.sh and the azd preprovision hook call it only when
# the vault has no fenta-key-ring yet; the template stores it there, once, through the control plane (the vault's data
# plane is private, so `az keyvault certificate create` cannot reach it from here). Nothing is left on disk.
#
#   infra/key-ring-certificate.sh <environment>
#
# RSA 3072, valid 25 years: Data Protection reads keys with an expired certificate too, and it finds the certificate by
# its thumbprint, so the certificate is never renewed (a renewed one could not read the keys the old one encrypted).
set -eu
[ $# -eq 1 ] || { echo "usage: infra/key-ring-certificate.sh <environment>" >&2; exit 2; }
command -v openssl >/dev/null || { echo "key-ring-certificate: openssl is needed to make the key ring's certificate" >&2; exit 1; }
umask 077
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM
openssl req -x509 -newkey rsa:3072 -nodes -sha256 -days 9125 -subj "/CN=fentaweb-key-ring-$1" \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
# AES-256 and SHA-256 spelled out: LibreSSL (macOS) would otherwise pick RC2 and 3DES.
openssl pkcs12 -export -inkey "$dir/key.pem" -in "$dir/cert.pem" -name fenta-key-ring -passout pass: \
  -keypbe AES-256-CBC -certpbe AES-256-CBC -macalg sha256 -out "$dir/ring.pfx"
openssl base64 -A -in "$dir/ring.pfx"
