# tlsward. The two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.tlsward-installed

.PHONY: help venv lint unit molecule test demo demo-down bench images docker-up docker-down clean

help:
	@echo "make demo       converge a local disposable target with the full stack and scan it"
	@echo "make demo-down  remove the demo target"
	@echo "make test       lint + unit/integration tests + every molecule scenario (Debian 12 and 13)"
	@echo "make bench      benchmarks, results in bench/results/"

$(STAMP): requirements-dev.txt requirements.lock pyproject.toml service/pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-dev.txt -c requirements.lock
	$(VENV)/bin/pip install -q -e . -e ./service -c requirements.lock
	@touch $@

venv: $(STAMP)
	scripts/collection-link.sh

lint: venv
	scripts/lint.sh

unit: venv
	scripts/unit.sh

molecule: venv
	scripts/molecule.sh test

test: venv
	scripts/test.sh

demo: venv
	scripts/demo.sh up

demo-down:
	scripts/demo.sh down

bench: venv
	bench/run.sh

images:
	scripts/build-images.sh

docker-up:
	scripts/docker-up.sh

docker-down:
	scripts/docker-down.sh

clean:
	rm -rf $(VENV) .cache
