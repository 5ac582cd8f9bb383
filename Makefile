.PHONY: check test proto build

# The README's test command, with the checks CI runs before it.
check:
	bash .ci/run

test:
	go test -race -shuffle=on -count=1 ./...

proto:
	./scripts/protogen.sh

build:
	CGO_ENABLED=0 go build -trimpath -o bin/ ./cmd/...
