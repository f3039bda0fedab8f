#!/usr/bin/env bash
# What the events outbox costs a write: this service at NEW (default HEAD) against
# itself at OLD (default b62073c, the last commit before the outbox), paired and
# interleaved by the shared harness's pair.py through bench/pair.sh. Each side is the
# Procfile's web process (gunicorn todo_project.asgi, gunicorn.conf.py,
# WEB_CONCURRENCY=1) of a `git worktree` of its revision, on its own database
# (bench_pair_django: NEW; bench_pair_vs: OLD), both on CPU 0.
#
#   bash bench/outbox_overhead.sh [pair.py options...]      # from the repo root
#   NEW=HEAD OLD=b62073c bash bench/outbox_overhead.sh --rounds 7 --scenarios create
#
# Default scenarios: create, update, toggle (`--scenarios ...` later on the line wins).
# The ratio printed is new/old (the bar: at least 0.90 for the three writes). Both
# sides run with this checkout's .venv (VENV), which must have NEW's requirements.
# SHARED_BENCH, BENCH_CACHE, PG_URL, RESULTS_DIR and gunicorn's settings pass through
# to bench/pair.sh.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
NEW=${NEW:-HEAD}
OLD=${OLD:-b62073c}
TREES=$(mktemp -d "${TMPDIR:-/tmp}/outbox-overhead.XXXXXX")
# shellcheck disable=SC2317  # reached through the trap
remove_trees() {
  for tree in new old; do
    [ ! -d "$TREES/$tree" ] || git -C "$REPO" worktree remove --force "$TREES/$tree" || true
  done
  rm -rf "$TREES"
}
trap remove_trees EXIT
trap 'exit 130' INT TERM

git -C "$REPO" worktree add -q --detach "$TREES/new" "$NEW"
git -C "$REPO" worktree add -q --detach "$TREES/old" "$OLD"
echo "new: $(git -C "$TREES/new" log -1 --format='%h %s' | cut -c1-90)" >&2
echo "old: $(git -C "$TREES/old" log -1 --format='%h %s' | cut -c1-90)" >&2

rc=0
OURS_TREE="$TREES/new" OURS_LABEL=new VS_TREE="$TREES/old" VS_LABEL=old \
  VENV=${VENV:-$REPO/.venv} bash "$REPO/bench/pair.sh" --scenarios create,update,toggle "$@" || rc=$?
exit "$rc"
