# The commands a newcomer and CI run. Each one installs what it needs first.
PORT ?= 8000
export PORT

.PHONY: run test bench load setup lint db-start db-stop clean backup restore

setup:  ## install OS packages, the virtualenv and the npm packages (idempotent)
	bash scripts/setup.sh

run:    ## set up, start PostGIS, migrate, load demo data once, serve on 127.0.0.1:$(PORT)
	bash scripts/run.sh

test:   ## set up, then lint, type-check and run the whole test suite
	bash scripts/test.sh

bench:  ## benchmarks against peer servers (QUICK=1 for a short run)
	bash scripts/bench.sh

load:   ## 60 s at 64 connections on tiles and GeoJSON with zero failures, then saturation -> 503
	bash scripts/load.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

db-start:
	bash scripts/db.sh start

db-stop:
	bash scripts/db.sh stop

backup: ## back up the database and media: make backup FILE=backups/amdis.tar
	bash scripts/manage.sh backup $(or $(FILE),backups/amdis-$(shell date +%Y%m%d-%H%M%S).tar)

restore: ## restore into an empty instance: make restore FILE=backups/amdis.tar
	bash scripts/manage.sh restore $(FILE)

clean:  ## stop the local cluster and delete local data (database, media)
	bash scripts/db.sh stop || true
	rm -rf .data
