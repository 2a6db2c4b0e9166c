# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# A test CA and server certificates, made at test time with the openssl CLI, for the TLS
# servers of the credential issuer tests (issuer-servers.py).

# issuer_ca_make DIR: DIR/ca.pem and DIR/ca.key (a CA valid for a day, EC P-256).
issuer_ca_make() {
	local dir=$1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
		-subj "/CN=airlock test CA $$" -keyout "$dir/ca.key" -out "$dir/ca.pem" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
		2>/dev/null
}

# issuer_cert_make DIR NAME SAN...: DIR/NAME.pem and DIR/NAME.key signed by DIR/ca.*, for
# the subject alternative names given (DNS:host.test, IP:11.1.0.60).
issuer_cert_make() {
	local dir=$1 name=$2 sans
	shift 2
	sans=$(IFS=,; echo "$*")
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=$name" -keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null &&
		openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
			-CAcreateserial -days 1 -out "$dir/$name.pem" \
			-extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$sans") \
			2>/dev/null
}

# issuer_app_key DIR NAME: an RSA 2048 key of a GitHub App, DIR/NAME.key (PKCS#1 PEM, as
# GitHub hands them out, root-only) and its public half DIR/NAME.pub.pem.
issuer_app_key() {
	local dir=$1 name=$2
	openssl genrsa -traditional -out "$dir/$name.key" 2048 2>/dev/null &&
		chmod 600 "$dir/$name.key" &&
		openssl rsa -in "$dir/$name.key" -pubout -out "$dir/$name.pub.pem" 2>/dev/null
}

# issuer_git_repo ROOT OWNER/NAME: a bare repository at ROOT/OWNER/NAME.git holding one
# commit with README saying "repo OWNER/NAME".
issuer_git_repo() {
	local root=$1 full=$2 work
	work=$(mktemp -d) || return 1
	git -C "$work" init -q -b main &&
		echo "repo $full" >"$work/README" &&
		git -C "$work" add README &&
		git -C "$work" -c user.name=t -c user.email=t@example.com commit -q -m init &&
		mkdir -p "$root/$(dirname "$full")" &&
		git clone -q --bare "$work" "$root/$full.git"
	local r=$?
	rm -rf "$work"
	return $r
}
