// Package deploy holds the checks of Stockwatch's container deployment: the
// Dockerfile, .dockerignore, compose.yaml and .env.example at the root of the
// module. It has no code of its own; its tests parse those files, assert the
// contract they promise (static non-root image, MySQL + api + collector
// started in order, no secret in compose.yaml; under the galera profile three
// Galera nodes, one of which starts the cluster, and the daemons on all
// three) and build the binaries exactly as the Dockerfile does.
package deploy
