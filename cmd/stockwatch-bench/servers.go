package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// process is a server the harness started: the daemon, or the ceiling
// server (this binary's ceiling subcommand), each in a process of its own
// so that its CPU and memory can be read from /proc.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string        // its stderr
	done    chan struct{} // closed when it has exited
	waitErr error
	addr    string           // gRPC address
	conn    *grpc.ClientConn // to addr; nil before it serves
}

// startProcess starts argv with its stderr in dir/name.log.
func startProcess(name, dir string, argv []string) (*process, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// serveGRPC starts argv, which must serve gRPC on addr, and waits until its
// health service answers SERVING.
func serveGRPC(ctx context.Context, name, dir, addr string, argv []string) (*process, error) {
	p, err := startProcess(name, dir, argv)
	if err != nil {
		return nil, err
	}
	p.addr = addr
	if err := p.waitServing(ctx, 2*time.Minute); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitServing waits for the port to accept, then for health SERVING.
func (p *process) waitServing(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if p.exited() {
			return fmt.Errorf("%s exited before serving (%v): %s", p.name, p.waitErr, p.logTail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not serving after %v: %s", p.name, timeout, p.logTail())
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p.conn == nil {
			if c, err := net.DialTimeout("tcp", p.addr, time.Second); err == nil {
				c.Close()
				if p.conn, err = grpc.NewClient(p.addr, grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
					return err
				}
			}
		}
		if p.conn != nil {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			r, err := healthpb.NewHealthClient(p.conn).Check(cctx, &healthpb.HealthCheckRequest{})
			cancel()
			if err == nil && r.GetStatus() == healthpb.HealthCheckResponse_SERVING {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM, waits up to 15 s, then kills. It returns an error if
// the process did not exit cleanly.
func (p *process) stop() error {
	if p.conn != nil {
		p.conn.Close()
	}
	if !p.exited() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s: killed after SIGTERM timed out", p.name)
	}
	var ee *exec.ExitError
	if p.waitErr != nil && !errors.As(p.waitErr, &ee) {
		return p.waitErr
	}
	if p.waitErr != nil {
		return fmt.Errorf("%s: %v: %s", p.name, p.waitErr, p.logTail())
	}
	return nil
}

// logTail returns the end of the process's stderr, for error messages.
func (p *process) logTail() string {
	b, _ := os.ReadFile(p.logPath)
	b = bytes.TrimSpace(b)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
