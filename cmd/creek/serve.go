package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"github.com/creekmq/creek"
)

// serve runs a broker until ctx ends (SIGINT or SIGTERM), then closes it:
// the listener stops accepting, requests in flight finish, files are
// closed.
func serve(ctx context.Context, args []string, io streams) error {
	fs := newFlags("serve", io)
	data := fs.String("data", "", "data directory; empty keeps everything in memory")
	listen := fs.String("listen", "127.0.0.1:9092", "address Kafka clients connect to")
	advertised := fs.String("advertised", "", "host:port clients are told to connect to; default --listen")
	listeners := fs.String("listeners", "",
		"in place of --listen, Kafka's listeners: NAME://host:port, comma-separated (PLAINTEXT://127.0.0.1:9092,CLIENTS://:9093)")
	protocols := fs.String("listener-protocols", "",
		"each listener's security protocol, NAME:PROTOCOL, comma-separated (CLIENTS:SASL_SSL); default the name's: "+
			"PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
	advertisedListeners := fs.String("advertised-listeners", "",
		"NAME://host:port clients of a listener are told to connect to, comma-separated; default the address listened on")
	interBroker := fs.String("inter-broker-listener", "", "cluster: the listener other nodes reach this one on; default the first")
	nodeCert := fs.String("node-cert", "", "cluster: this node's PEM certificate, its identity to the others (with --node-key, --node-ca)")
	nodeKey := fs.String("node-key", "", "cluster: the PEM private key of --node-cert")
	nodeCA := fs.String("node-ca", "", "cluster: the PEM CAs that sign every node's certificate")
	gossipKeyFile := fs.String("gossip-key-file", "", "cluster: a file of the gossip encryption key, 16, 24 or 32 bytes in base64")
	autoCreate := fs.Bool("auto-create-topics", false, "create a topic when something is first produced to it")
	nodeID := fs.Int("node-id", -1, "join a cluster as this node ID (with --gossip)")
	gossip := fs.String("gossip", "", "cluster: host:port to gossip on")
	seeds := fs.String("seeds", "", "cluster: comma-separated gossip addresses of members to join")
	rack := fs.String("rack", "", "cluster: this node's rack")
	raftAddr := fs.String("raft", "", "cluster: host:port of the controller's Raft; default the gossip host, a free port")
	local := fs.Bool("local-network", false,
		"cluster: every node on one host or a sub-millisecond LAN: notice a failed node within about a second")
	txnVersion := fs.Int("transaction-version", 2,
		"the transaction.version clients are told: 2 (KIP-890's second part, an epoch per transaction) or 1")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	tlsCert := fs.String("tls-cert", "", "serve Kafka clients over TLS with this PEM certificate (with --tls-key)")
	tlsKey := fs.String("tls-key", "", "the PEM private key of --tls-cert")
	tlsClientCA := fs.String("tls-client-ca", "", "require client certificates these PEM CAs sign (mTLS)")
	saslUsers := fs.String("sasl-users", "",
		"make clients authenticate (SCRAM-SHA-256, SCRAM-SHA-512, PLAIN) as a user of this file: user:password a line")
	aclOn := fs.Bool("acl", false, "decide every request by the node's ACLs (creek acl), as Kafka's authorizer")
	superUsers := fs.String("super-users", "", "with --acl: principals that may do everything, comma-separated (User:admin)")
	allowIfNoACL := fs.Bool("allow-if-no-acl", false,
		"with --acl: allow what is done to a resource no ACL names (allow.everyone.if.no.acl.found)")
	oauthUnsecured := fs.Bool("sasl-oauth-unsecured", false,
		"also take OAUTHBEARER with unsigned JWTs (sub, exp), as Kafka's default validator: for tests only")
	oauthJWKS := fs.String("sasl-oauth-jwks", "",
		"take OAUTHBEARER with JWTs signed by a key of this JWKS URL (https://, or file://), as Kafka's JWT validator")
	oauthIssuer := fs.String("sasl-oauth-issuer", "", "with --sasl-oauth-jwks: the issuer (iss) tokens must have")
	oauthAudience := fs.String("sasl-oauth-audience", "", "with --sasl-oauth-jwks: audiences (aud), comma-separated, one of which tokens must have")
	oauthSubClaim := fs.String("sasl-oauth-sub-claim", "sub", "with --sasl-oauth-jwks: the claim naming the user")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tlsConfig, saslConfig, err := securityFromFlags(*tlsCert, *tlsKey, *tlsClientCA, *saslUsers)
	if err != nil {
		return err
	}
	if *oauthUnsecured && *oauthJWKS != "" {
		return errors.New("--sasl-oauth-unsecured and --sasl-oauth-jwks: one validator or the other")
	}
	if *oauthUnsecured || *oauthJWKS != "" {
		if saslConfig == nil {
			saslConfig = &creek.SASLConfig{}
		}
		saslConfig.OAuthBearer = creek.UnsecuredJWT
	}
	if *oauthJWKS != "" {
		v, err := creek.NewJWTValidator(ctx, creek.JWTConfig{JWKSURL: *oauthJWKS, Issuer: *oauthIssuer,
			Audience: splitList(*oauthAudience), SubjectClaim: *oauthSubClaim})
		if err != nil {
			return fmt.Errorf("--sasl-oauth-jwks: %w", err)
		}
		saslConfig.OAuthBearer = v.Validate
	}
	aclConfig, err := aclFromFlags(*aclOn, *superUsers, *allowIfNoACL)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	if *txnVersion < 1 || *txnVersion > 2 {
		return fmt.Errorf("--transaction-version %d: it is 1 or 2", *txnVersion)
	}
	log := slog.New(slog.NewTextHandler(io.err, &slog.HandlerOptions{Level: level}))
	cfg := creek.Config{Dir: *data, Listen: *listen, AdvertisedAddr: *advertised, AutoCreateTopics: *autoCreate,
		TransactionVersion: int16(*txnVersion), TLS: tlsConfig, SASL: saslConfig, ACL: aclConfig, Logger: log}
	if *listeners != "" {
		if set(fs, "listen") || set(fs, "advertised") {
			return errors.New("--listeners is in place of --listen and --advertised: give it the addresses")
		}
		cfg.Listen = ""
		if cfg.Listeners, err = listenersFromFlags(*listeners, *protocols, *advertisedListeners); err != nil {
			return err
		}
	} else if *protocols != "" || *advertisedListeners != "" {
		return errors.New("--listener-protocols and --advertised-listeners name the listeners of --listeners")
	}
	if *nodeID >= 0 {
		cfg.Cluster = &creek.ClusterConfig{NodeID: int32(*nodeID), GossipAddr: *gossip, Rack: *rack, RaftAddr: *raftAddr,
			LocalNetwork: *local, InterBrokerListener: *interBroker}
		if cfg.Cluster.TLS, err = nodeIdentityFromFlags(*nodeCert, *nodeKey, *nodeCA); err != nil {
			return err
		}
		if cfg.Cluster.EncryptionKey, err = readGossipKey(*gossipKeyFile); err != nil {
			return err
		}
		if *seeds != "" {
			cfg.Cluster.Seeds = strings.Split(*seeds, ",")
		}
	}
	node, err := creek.Open(cfg)
	if err != nil {
		return err
	}
	where := *data
	if where == "" {
		where = "memory"
	}
	for _, l := range cfg.Listeners {
		log.Info("creek listener", "name", l.Name, "protocol", l.Protocol, "addr", node.ListenerAddr(l.Name).String())
	}
	log.Info("creek serving the Kafka protocol", "addr", node.Addr().String(), "data", where)
	if gossipAddr := node.GossipAddr(); gossipAddr != "" {
		log.Info("creek gossiping with its cluster", "gossip", gossipAddr, "node", *nodeID)
	}
	<-ctx.Done()
	log.Info("creek stopping")
	return node.Close()
}

// set reports whether the command line gave the flag named.
func set(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}
