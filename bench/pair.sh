#!/usr/bin/env bash
# Paired, interleaved benchmark: this service (the Procfile's web process, as
# production starts it) against the FastAPI + SQLModel peer (uvicorn, asyncpg),
# measured by the shared harness's pair.py (A,B,B,A... per scenario; the ratio is the
# median of the per-round ratios), through bench/pair_lists.py, which adds the
# scenario `list-in-list`: our first page of one of a user's 10 lists against the
# peer's plain first page (the peer has no lists).
#
#   bash bench/pair.sh [pair.py options...]        # from the repo root
#   bash bench/pair.sh --scenarios toggle,create,update --rounds 5
#
# What it does:
#   1. copies the harness (SHARED_BENCH, default ../shared/bench beside the repo) to
#      BENCH_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/todo-bench) and creates
#      its two venvs there if they are missing;
#   2. recreates the databases bench_pair_django and bench_pair_peer, migrates ours;
#   3. starts ours on :8001 (`taskset -c 0 .venv/bin/gunicorn todo_project.asgi`, the
#      Procfile's web with gunicorn.conf.py, WEB_CONCURRENCY=1) and the peer on :8002,
#      both on CPU 0;
#   4. runs pair.py with list-in-list (wrk and PostgreSQL on CPU 1) and writes
#      bench/results/pair-<UTC stamp>/{pair.json,django.log,peer.log};
#   5. stops both servers on exit.
# Needs: wrk, taskset, psql (apt-get install wrk util-linux postgresql-client), the
# repo's .venv (`make setup-test`), PostgreSQL at PG_URL with trust auth.
# Other gunicorn.conf.py settings (e.g. GUNICORN_THREADS) pass through from the
# environment. Exit status: pair.py's (3 when a measurement had non-2xx responses).
#
# Two revisions of this service instead (bench/outbox_overhead.sh does this):
# OURS_TREE (default: this checkout) is side A (label OURS_LABEL), VS_TREE a checkout
# of another revision, side B in place of the peer (label VS_LABEL, database
# bench_pair_vs, log VS_LABEL.log), both run with VENV (default: this checkout's
# .venv); pair.py then runs without list-in-list.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
SHARED_BENCH=${SHARED_BENCH:-$REPO/../shared/bench}
BENCH_CACHE=${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/todo-bench}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
PG_SOCKET=${PG_SOCKET:-/var/run/postgresql}
OURS_DB=bench_pair_django
PEER_DB=bench_pair_peer
OURS_TREE=${OURS_TREE:-$REPO}
VENV=${VENV:-$REPO/.venv}
VS_TREE=${VS_TREE:-}
OURS_LABEL=${OURS_LABEL:-django}
VS_LABEL=${VS_LABEL:-fastapi-asyncpg}
VS_LOG=peer.log
[ -z "$VS_TREE" ] || { PEER_DB=bench_pair_vs; VS_LOG=$VS_LABEL.log; }
OURS_PORT=8001
PEER_PORT=8002
OUT_DIR=${RESULTS_DIR:-$REPO/bench/results}/pair-$(date -u +%Y%m%dT%H%M%SZ)

for tool in wrk taskset psql curl; do
  command -v "$tool" >/dev/null || { echo "$tool not found: apt-get install wrk util-linux postgresql-client curl" >&2; exit 1; }
done
[ -x "$VENV/bin/gunicorn" ] || { echo "$VENV is missing: run make setup-test" >&2; exit 1; }
[ -f "$SHARED_BENCH/pair.py" ] || { echo "no pair.py in $SHARED_BENCH (set SHARED_BENCH)" >&2; exit 1; }
for port in "$OURS_PORT" "$PEER_PORT"; do
  if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
    echo "something already listens on port $port" >&2; exit 1
  fi
done

# 1. The harness, writable, with its venvs.
mkdir -p "$BENCH_CACHE"
tar -C "$SHARED_BENCH" --exclude=.venv --exclude=results --exclude=__pycache__ -cf - . | tar -C "$BENCH_CACHE" -xf -
chmod -R u+w "$BENCH_CACHE"
make_venv() {  # make_venv DIR: DIR/.venv with DIR/requirements.txt, unless done before
  if [ ! -f "$1/.venv/.installed" ] || [ "$1/requirements.txt" -nt "$1/.venv/.installed" ]; then
    python3 -m venv "$1/.venv"
    "$1/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$1/requirements.txt"
    touch "$1/.venv/.installed"
  fi
}
make_venv "$BENCH_CACHE"
[ -n "$VS_TREE" ] || make_venv "$BENCH_CACHE/peer_fastapi"

# 2. Fresh databases.
for db in "$OURS_DB" "$PEER_DB"; do
  psql -q "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
done
BETTER_AUTH_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(40))')
export BETTER_AUTH_SECRET
# Production settings, except plain HTTP on loopback and no rate limits. DEBUG=false
# is the default, set here so that a .env can't turn it on.
SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')
export SECRET_KEY DATABASE_URL="$PG_URL/$OURS_DB" DEBUG=false SECURE_HTTPS=false \
  RATE_LIMIT_USER=off RATE_LIMIT_ANON=off DJANGO_READ_DOT_ENV_FILE=false
(cd "$OURS_TREE" && "$VENV/bin/python" manage.py migrate --noinput -v0)
[ -z "$VS_TREE" ] || (cd "$VS_TREE" && DATABASE_URL="$PG_URL/$PEER_DB" "$VENV/bin/python" manage.py migrate --noinput -v0)

# 3. Both servers, on CPU 0.
mkdir -p "$OUT_DIR"
OURS_PID="" PEER_PID=""
# shellcheck disable=SC2317  # reached through the trap
stop_servers() {
  for pid in $OURS_PID $PEER_PID; do kill "$pid" 2>/dev/null || true; done
  for pid in $OURS_PID $PEER_PID; do wait "$pid" 2>/dev/null || true; done
}
trap stop_servers EXIT
trap 'exit 130' INT TERM

ours() {  # ours TREE PORT: the Procfile's web process of TREE, one worker, on CPU 0
  cd "$1" && WEB_CONCURRENCY=1 HOST=127.0.0.1 PORT=$2 exec taskset -c 0 "$VENV/bin/gunicorn" todo_project.asgi
}
(ours "$OURS_TREE" "$OURS_PORT") >"$OUT_DIR/$OURS_LABEL.log" 2>&1 &
OURS_PID=$!
PEER_URL="postgres@/$PEER_DB?host=$PG_SOCKET"
if [ -n "$VS_TREE" ]; then
  (DATABASE_URL="$PG_URL/$PEER_DB" ours "$VS_TREE" "$PEER_PORT") >"$OUT_DIR/$VS_LOG" 2>&1 &
else
  DATABASE_URL="postgresql+psycopg://$PEER_URL" ASYNC_DATABASE_URL="postgresql+asyncpg://$PEER_URL" \
    taskset -c 0 "$BENCH_CACHE/peer_fastapi/.venv/bin/uvicorn" app.async_app:app \
    --app-dir "$BENCH_CACHE/peer_fastapi" --host 127.0.0.1 --port "$PEER_PORT" --workers 1 \
    --no-access-log --log-level warning >"$OUT_DIR/$VS_LOG" 2>&1 &
fi
PEER_PID=$!

for port in "$OURS_PORT" "$PEER_PORT"; do
  for try in $(seq 150); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && break
    if ! kill -0 "$OURS_PID" 2>/dev/null || ! kill -0 "$PEER_PID" 2>/dev/null; then
      echo "a server exited; see $OUT_DIR/*.log" >&2; exit 1
    fi
    [ "$try" -lt 150 ] || { echo "port $port does not answer /readyz" >&2; exit 1; }
    sleep 0.2
  done
done

# 4. The paired measurement.
rc=0
runner=("$REPO/bench/pair_lists.py" --harness "$BENCH_CACHE")  # ours against the peer: + list-in-list
[ -z "$VS_TREE" ] || runner=("$BENCH_CACHE/pair.py")
"$BENCH_CACHE/.venv/bin/python" "${runner[@]}" \
  --a "http://127.0.0.1:$OURS_PORT" --a-label "$OURS_LABEL" \
  --b "http://127.0.0.1:$PEER_PORT" --b-label "$VS_LABEL" \
  --secret="$BETTER_AUTH_SECRET" --pin-postgres 1 --rounds 3 \
  --a-after-seed "psql -q '$PG_URL/$OURS_DB' -c 'VACUUM ANALYZE'" \
  --b-after-seed "psql -q '$PG_URL/$PEER_DB' -c 'VACUUM ANALYZE'" \
  --out "$OUT_DIR/pair.json" "$@" || rc=$?
echo "results: $OUT_DIR"
exit "$rc"
