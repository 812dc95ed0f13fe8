// Command login is the course's login application: a Go server that
// embeds a creek broker and answers login requests, and a Node.js web
// client (kafkajs) whose login page sends them, request and reply passing
// through Kafka topics. One command starts both:
//
//	go run ./examples/login
//
// and prints the page's address. See README.md in this directory.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/creekmq/creek"
	"github.com/creekmq/creek/examples/login/loginserver"
)

func main() {
	data := flag.String("data", "./login-data", "the broker's data directory")
	kafkaAddr := flag.String("kafka", "127.0.0.1:9092", "address of the broker's Kafka listener")
	httpPort := flag.Int("http-port", 8080, "port of the login page")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := start(ctx, config{Data: *data, Kafka: *kafkaAddr, HTTPPort: *httpPort, Log: log, ClientOut: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "login:", err)
		os.Exit(1)
	}
	fmt.Printf("\n  Open %s and sign in as %s / %s\n\n", a.URL, loginserver.DemoEmail, loginserver.DemoPassword)
	<-ctx.Done()
	if err := a.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "login:", err)
		os.Exit(1)
	}
}

// config says where the application runs.
type config struct {
	Data      string // broker data directory
	Kafka     string // Kafka listener address
	HTTPPort  int    // login page port; 0 picks one
	Log       *slog.Logger
	ClientOut io.Writer     // where the Node.js client's output goes
	Timeout   time.Duration // how long the client waits for a reply; 0: its default
}

// app is the running application: the broker, the login server, and the
// Node.js client.
type app struct {
	URL        string
	node       *creek.Node
	server     *loginserver.Server
	serverDone chan error
	client     *exec.Cmd
	clientDone chan error
}

// start starts the broker and the login server, then the Node.js client,
// and returns once the login page is served.
func start(ctx context.Context, cfg config) (*app, error) {
	node, err := creek.Open(creek.Config{Dir: cfg.Data, Listen: cfg.Kafka, Logger: cfg.Log})
	if err != nil {
		return nil, err
	}
	a := &app{node: node}
	if err := a.startServer(ctx, cfg.Log); err != nil {
		return nil, errors.Join(err, node.Close())
	}
	if err := a.startClient(ctx, cfg); err != nil {
		return nil, errors.Join(err, a.Close())
	}
	return a, nil
}

func (a *app) startServer(ctx context.Context, log *slog.Logger) error {
	users, err := loginserver.NewUsers()
	if err != nil {
		return err
	}
	a.server, err = loginserver.New(ctx, a.node, users, loginserver.NewLimiter(5, 15*time.Minute), log)
	if err != nil {
		return err
	}
	a.serverDone = make(chan error, 1)
	go func() { a.serverDone <- a.server.Run(context.Background()) }()
	return nil
}

// startClient runs the Node.js client, installing its dependencies first
// when they are missing, and waits until it prints its address.
func (a *app) startClient(ctx context.Context, cfg config) error {
	dir := clientDir()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "kafkajs")); err != nil {
		install := exec.CommandContext(ctx, "npm", "ci", "--omit=dev", "--no-audit", "--no-fund")
		install.Dir, install.Stdout, install.Stderr = dir, cfg.ClientOut, cfg.ClientOut
		if err := install.Run(); err != nil {
			return fmt.Errorf("npm ci in %s: %w", dir, err)
		}
	}
	a.client = exec.Command("node", "server.js")
	a.client.Dir = dir
	a.client.Env = append(os.Environ(), "BROKER="+a.node.Addr().String(), fmt.Sprintf("PORT=%d", cfg.HTTPPort))
	if cfg.Timeout > 0 {
		a.client.Env = append(a.client.Env, fmt.Sprintf("REPLY_TIMEOUT_MS=%d", cfg.Timeout.Milliseconds()))
	}
	a.client.Stderr = cfg.ClientOut
	stdout, err := a.client.StdoutPipe()
	if err != nil {
		return err
	}
	if err := a.client.Start(); err != nil {
		return fmt.Errorf("start the Node.js client: %w", err)
	}
	a.clientDone = make(chan error, 1)
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if _, url, ok := strings.Cut(lines.Text(), "login page at "); ok {
			a.URL = url
			go func() {
				io.Copy(cfg.ClientOut, stdout)
				a.clientDone <- a.client.Wait()
			}()
			return nil
		}
		fmt.Fprintln(cfg.ClientOut, lines.Text())
	}
	err = a.client.Wait()
	a.client = nil
	return fmt.Errorf("the Node.js client stopped before serving the page: %v", err)
}

// clientDir is the Node.js client's directory, beside this file.
func clientDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "client")
}

// StopServer stops the login server alone, as if it had crashed: the page
// and the broker stay up.
func (a *app) StopServer() error {
	if a.server == nil {
		return nil
	}
	err := a.server.Close()
	a.server = nil
	return errors.Join(err, <-a.serverDone)
}

// Close stops the client, the login server and the broker.
func (a *app) Close() error {
	var err error
	if a.client != nil {
		err = a.client.Process.Signal(syscall.SIGTERM)
		if a.clientDone != nil {
			<-a.clientDone // exits 0 on SIGTERM once disconnected
		}
	}
	return errors.Join(err, a.StopServer(), a.node.Close())
}
