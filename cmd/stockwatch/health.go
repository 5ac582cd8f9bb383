package main

import (
	"context"
	"errors"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func healthCmd() *command {
	return &command{
		name:    "health",
		summary: "ask the server whether it is serving",
		help: "Asks the server's gRPC health service about the Stockwatch API and prints the answer\n" +
			"(SERVING, NOT_SERVING, ...). Exits 0 only when it is SERVING: usable as a probe.",
		example: "stockwatch -addr stockwatch.internal:50051 health",
		run: func(ctx context.Context, s *session, _ []string) error {
			c, err := s.client()
			if err != nil {
				return err
			}
			resp, err := c.Health(ctx)
			if err != nil {
				return err
			}
			if s.out.json {
				err = s.out.message(resp)
			} else {
				err = s.out.text("%s", resp.GetStatus())
			}
			if err != nil {
				return err
			}
			if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				return errors.New("server is " + resp.GetStatus().String())
			}
			return nil
		},
	}
}
