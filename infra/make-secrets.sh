#!/bin/sh
# Creates the secrets infra/docker-compose.yml reads, once, mode 0600 in a 0700 directory (git-ignored):
#   <dir>/postgres_password  the PostgreSQL password (a Docker secret of the postgres service; 0644, see below)
#   <dir>/crm-ledger.env     CRM_LEDGER_POSTGRES_URL (with that password) and CRM_LEDGER_MASTER_KEY (env_file of
#                            every crm-ledger service)
# Usage: sh infra/make-secrets.sh [dir]   (default: infra/secrets beside this script). Refuses to overwrite: a new
# master key would make every customer key unreadable (docs/privacy.md#the-master-key).
set -eu
dir=${1:-"$(dirname "$0")/secrets"}
umask 077
mkdir -p "$dir"
chmod 700 "$dir"
if [ -e "$dir/postgres_password" ] || [ -e "$dir/crm-ledger.env" ]; then
  echo "make-secrets: $dir already holds secrets; not overwriting them" >&2
  exit 1
fi
password=$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')
master=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
printf '%s' "$password" > "$dir/postgres_password"
# Compose mounts a file secret with its host mode, and the postgres image reads it as user postgres: the file is
# readable (0644) inside a directory only its owner can enter (0700), so on the host it stays private.
chmod 644 "$dir/postgres_password"
cat > "$dir/crm-ledger.env" <<ENV
CRM_LEDGER_POSTGRES_URL=postgres://crm_ledger:$password@postgres:5432/crm_ledger
CRM_LEDGER_MASTER_KEY=$master
ENV
echo "make-secrets: wrote $dir/postgres_password and $dir/crm-ledger.env (mode 0600); back up the master key apart from the data" >&2
