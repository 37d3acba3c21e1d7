# The one test command is `make test` (README and .ci/run call it).
.PHONY: test vet fmt cover

test:
	@bash scripts/test.sh

vet:
	go vet ./...

fmt:
	gofmt -l -w .

cover:
	go test -cover ./...
