package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/go-sql-driver/mysql"
)

// errNodeNotReady is the error of a connection to a Galera node that is
// outside the primary component or not Synced: the database cannot serve
// through that node now.
var errNodeNotReady = errors.New("galera node not ready")

// failover is the driver.Connector of a mysql:// URL with several hosts,
// the nodes of a Galera cluster (docs/galera.md). A new connection goes to
// the host that the last one went to, so that the pool stays on one node
// (fewer certification conflicts than writes spread over every node); when
// that host refuses it or is not ready, to the next host in the URL's
// order, round to the start. A connection whose node leaves the primary
// component marks itself bad (nodeConn), and database/sql replaces it.
type failover struct {
	addrs []string
	conns []driver.Connector
	cur   atomic.Int64 // index of the host that took the last connection
}

// newFailover returns the connector over hosts, each reached with cfg but
// for its address. It returns the driver's error for a config it refuses.
func newFailover(cfg *mysql.Config, hosts []string) (*failover, error) {
	f := &failover{addrs: hosts}
	for _, h := range hosts {
		c := cfg.Clone()
		c.Addr = h
		conn, err := mysql.NewConnector(c)
		if err != nil {
			return nil, err
		}
		f.conns = append(f.conns, conn)
	}
	return f, nil
}

// current returns the address of the host that took the last connection.
func (f *failover) current() string { return f.addrs[f.cur.Load()] }

// Connect returns a connection to the first host, from the current one on,
// that accepts it and is ready. When none is, it returns every host's
// error joined (each one matching what the driver or nodeReady returned).
func (f *failover) Connect(ctx context.Context) (driver.Conn, error) {
	start := int(f.cur.Load())
	var errs []error
	for i := range f.conns {
		k := (start + i) % len(f.conns)
		conn, err := f.connect(ctx, k)
		if err == nil {
			f.cur.Store(int64(k))
			return conn, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", f.addrs[k], err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func (f *failover) connect(ctx context.Context, k int) (driver.Conn, error) {
	conn, err := f.conns[k].Connect(ctx)
	if err != nil {
		return nil, err
	}
	mc, ok := conn.(mysqlConn)
	if !ok {
		conn.Close()
		return nil, errors.New("mysql driver connection lacks a method database/sql uses")
	}
	if err := nodeReady(ctx, mc); err != nil {
		mc.Close()
		return nil, err
	}
	return &nodeConn{mysqlConn: mc}, nil
}

// Driver returns the MySQL driver.
func (f *failover) Driver() driver.Driver { return f.conns[0].Driver() }

// nodeReady returns nil when the server on conn can serve: it is not a
// Galera node (MySQL, or MariaDB without a wsrep provider), or it is one
// in the primary component (wsrep_ready ON) and Synced. A node that is a
// donor, joining or desynced is skipped while another can serve. It
// returns errNodeNotReady, wrapped with the node's state, otherwise, or
// the query's error.
func nodeReady(ctx context.Context, conn driver.QueryerContext) error {
	rows, err := conn.QueryContext(ctx, "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_local_state_comment')", nil)
	if err != nil {
		return err
	}
	defer rows.Close()
	status := map[string]string{}
	v := make([]driver.Value, len(rows.Columns()))
	for {
		err := rows.Next(v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if len(v) >= 2 {
			status[text(v[0])] = text(v[1])
		}
	}
	state, galera := status["wsrep_local_state_comment"]
	switch {
	case !galera:
		return nil
	case status["wsrep_ready"] != "ON":
		return fmt.Errorf("%w: wsrep_ready is %s", errNodeNotReady, status["wsrep_ready"])
	case state != "Synced":
		return fmt.Errorf("%w: wsrep_local_state_comment is %s", errNodeNotReady, state)
	}
	return nil
}

func text(v driver.Value) string {
	switch v := v.(type) {
	case []byte:
		return string(v)
	case string:
		return v
	}
	return fmt.Sprint(v)
}

// mysqlConn is the set of methods of the MySQL driver's connection that
// database/sql uses; nodeConn passes them on.
type mysqlConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
	driver.NamedValueChecker
}

// nodeConn is a connection of a failover connector. Once its server
// answers that it is not ready for queries (a Galera node outside the
// primary component, erNodeNotReady), it reports itself invalid, so that
// database/sql closes it instead of reusing it, and a new connection goes
// to a node that is ready. Everything else is the driver's connection.
type nodeConn struct {
	mysqlConn
	bad atomic.Bool
}

var (
	_ mysqlConn        = (*nodeConn)(nil)
	_ driver.Connector = (*failover)(nil)
)

// check marks c bad when err says its node is not ready, and returns err.
// A lock wait timeout counts too: with causal reads (wsrep_sync_wait) it
// is what a read answers on a node cut off from the others before the
// node knows it, and otherwise rare enough that a new connection (to the
// same node if it is ready) costs nothing.
func (c *nodeConn) check(err error) error {
	switch mysqlNumber(err) {
	case erNodeNotReady, erLockWaitTimeout:
		c.bad.Store(true)
	}
	return err
}

func (c *nodeConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.mysqlConn.BeginTx(ctx, opts)
	if err != nil {
		return nil, c.check(err)
	}
	return nodeTx{Tx: tx, c: c}, nil
}

func (c *nodeConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	s, err := c.mysqlConn.PrepareContext(ctx, query)
	return s, c.check(err)
}

func (c *nodeConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	r, err := c.mysqlConn.ExecContext(ctx, query, args)
	return r, c.check(err)
}

func (c *nodeConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	r, err := c.mysqlConn.QueryContext(ctx, query, args)
	return r, c.check(err)
}

func (c *nodeConn) Ping(ctx context.Context) error { return c.check(c.mysqlConn.Ping(ctx)) }

func (c *nodeConn) ResetSession(ctx context.Context) error {
	if c.bad.Load() {
		return driver.ErrBadConn
	}
	return c.mysqlConn.ResetSession(ctx)
}

func (c *nodeConn) IsValid() bool { return !c.bad.Load() && c.mysqlConn.IsValid() }

// nodeTx is a transaction on a nodeConn: a commit refused because the node
// left the primary component marks the connection bad too.
type nodeTx struct {
	driver.Tx
	c *nodeConn
}

func (t nodeTx) Commit() error { return t.c.check(t.Tx.Commit()) }
