package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// probeTimeout bounds one Metadata request to one node; a paused node
// answers nothing.
const probeTimeout = 3 * time.Second

// Cluster is the harness's `creek serve` processes and its clients to them.
type Cluster struct {
	Nodes []*Node
	Net   *Network

	sec    *Security // nil: -security none
	ev     *Events
	admin  *kgo.Client
	adm    *kadm.Client
	probes []*kgo.Client // probes[i] talks to Nodes[i] only
}

// StartCluster makes the material of the security mode (SecurityNone or
// SecurityMTLS) in dir, starts n nodes under dir, node 1 first (it
// bootstraps) and the others seeded with its gossip address, and connects
// clients to them; under mtls it waits until every node takes the
// harness's SCRAM user.
func StartCluster(ctx context.Context, bin, dir string, n int, security string, net *Network, ev *Events) (*Cluster, error) {
	c := &Cluster{Net: net, ev: ev}
	var err error
	if c.sec, err = MakeSecurity(security, dir, n); err != nil {
		return c, fmt.Errorf("security %s: %w", security, err)
	}
	if c.sec != nil {
		ev.Printf("security mtls: nodes reach each other over mTLS with certificates of the CA %s; clients SASL_SSL, SCRAM-SHA-512 as %s",
			c.sec.CAFile, scramUser)
	}
	for id := 1; id <= n; id++ {
		node := NewNode(bin, dir, id, c.sec)
		c.Nodes = append(c.Nodes, node)
		seeds := ""
		if id > 1 {
			seeds = c.Nodes[0].GossipAddr()
		}
		if err := node.Start(ctx, seeds); err != nil {
			return c, err
		}
		ev.Printf("node %d serves Kafka at %s, gossips at %s", id, node.KafkaAddr(), node.GossipAddr())
	}
	if err := c.connect(); err != nil {
		return c, err
	}
	if c.sec != nil {
		return c, c.waitAuthenticated(ctx)
	}
	return c, nil
}

// connect makes the admin client over every node and one probe per node.
func (c *Cluster) connect() error {
	var err error
	if c.admin, err = kgo.NewClient(c.Clients().Opts()...); err != nil {
		return err
	}
	c.adm = kadm.NewClient(c.admin)
	for _, node := range c.Nodes {
		probe, err := kgo.NewClient(ClientConfig{Brokers: []string{node.KafkaAddr()}, Security: c.sec}.Opts()...)
		if err != nil {
			return err
		}
		c.probes = append(c.probes, probe)
	}
	return nil
}

const (
	// authTimeout bounds the wait for every node to take the SCRAM user,
	// which the controller's leader seeds shortly after the cluster forms.
	authTimeout = time.Minute
	// authRetryPause separates failed attempts to authenticate to a
	// node, which logs each: a few a second stay well below
	// LogFloodLimit.
	authRetryPause = 300 * time.Millisecond
)

// waitAuthenticated waits until every node answers its probe's Metadata
// request, which it sends after authenticating: until the node has the
// seeded SCRAM user, it fails with SASL_AUTHENTICATION_FAILED.
func (c *Cluster) waitAuthenticated(ctx context.Context) error {
	for _, n := range c.Nodes {
		err := waitFor(ctx, authTimeout, fmt.Sprintf("node %d to take SCRAM user %s", n.ID, scramUser), func(ctx context.Context) (bool, error) {
			_, err := c.NodeMetadata(ctx, n)
			if err != nil {
				hold(ctx, authRetryPause)
			}
			return err == nil, err
		})
		if err != nil {
			return err
		}
	}
	c.ev.Printf("every node takes SCRAM user %s", scramUser)
	return nil
}

// Clients is how the harness's clients reach the cluster: every node's
// Kafka address, and the run's security.
func (c *Cluster) Clients() ClientConfig {
	return ClientConfig{Brokers: c.KafkaAddrs(), Security: c.sec}
}

// KafkaAddrs lists every node's Kafka address, the clients' seed brokers.
func (c *Cluster) KafkaAddrs() []string {
	var addrs []string
	for _, n := range c.Nodes {
		addrs = append(addrs, n.KafkaAddr())
	}
	return addrs
}

// Node returns the node with ID id, or nil.
func (c *Cluster) Node(id int) *Node {
	if id < 1 || id > len(c.Nodes) {
		return nil
	}
	return c.Nodes[id-1]
}

// Restart starts a stopped node again on its data, seeded with every other
// node's gossip address so it can join whichever of them is up.
func (c *Cluster) Restart(ctx context.Context, n *Node) error {
	var seeds []string
	for _, o := range c.Nodes {
		if o != n {
			seeds = append(seeds, o.GossipAddr())
		}
	}
	if err := n.Start(ctx, strings.Join(seeds, ",")); err != nil {
		return err
	}
	c.ev.Printf("node %d serves again", n.ID)
	return nil
}

// Admin is a kadm client over every node.
func (c *Cluster) Admin() *kadm.Client { return c.adm }

// Leaders maps each partition of topic to its leader's node ID (-1 none),
// as some node reports it.
func (c *Cluster) Leaders(ctx context.Context, topic string) (map[int32]int32, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*probeTimeout)
	defer cancel()
	md, err := c.adm.Metadata(ctx, topic)
	if err != nil {
		return nil, err
	}
	t, ok := md.Topics[topic]
	if !ok || t.Err != nil {
		return nil, fmt.Errorf("metadata of %s: %v", topic, t.Err)
	}
	leaders := map[int32]int32{}
	for p, d := range t.Partitions {
		leaders[p] = d.Leader
	}
	return leaders, nil
}

// TxnCoordinator returns the node ID of the transaction coordinator of
// txnID (FindCoordinator, key type 1): the leader of its partition of
// __transaction_state.
func (c *Cluster) TxnCoordinator(ctx context.Context, txnID string) (int32, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*probeTimeout)
	defer cancel()
	resp, ok := c.adm.FindTxnCoordinators(ctx, txnID)[txnID]
	switch {
	case !ok:
		return -1, fmt.Errorf("no coordinator for %s", txnID)
	case resp.Err != nil:
		return -1, fmt.Errorf("coordinator of %s: %w", txnID, resp.Err)
	}
	return resp.NodeID, nil
}

// NodeMetadata asks node n itself, and no other, for topics' metadata
// (none named: every topic's).
func (c *Cluster) NodeMetadata(ctx context.Context, n *Node, topics ...string) (*kmsg.MetadataResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	seeds := c.probes[n.ID-1].SeedBrokers()
	if len(seeds) == 0 {
		return nil, errors.New("no seed broker")
	}
	req := kmsg.NewPtrMetadataRequest()
	for _, topic := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(topic)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := seeds[0].Request(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("node %d: %w", n.ID, err)
	}
	return resp.(*kmsg.MetadataResponse), nil
}

// HealAll ends every fault: cuts deleted, paused nodes continued, stopped
// nodes started again.
func (c *Cluster) HealAll(ctx context.Context) error {
	var errs []error
	if err := c.Net.HealAll(); err != nil {
		errs = append(errs, err)
	}
	for _, n := range c.Nodes {
		if n.Paused() {
			n.Resume()
		}
	}
	for _, n := range c.Nodes {
		if !n.Running() {
			if err := c.Restart(ctx, n); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// StopAll stops every node gracefully and waits for each to exit.
func (c *Cluster) StopAll() error {
	c.closeClients()
	var errs []error
	for _, n := range c.Nodes {
		if err := n.Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// closeClients closes the harness's clients to the cluster.
func (c *Cluster) closeClients() {
	if c.admin != nil {
		c.admin.Close()
		c.admin = nil
	}
	for _, p := range c.probes {
		p.Close()
	}
	c.probes = nil
}

// Close kills whatever still runs and closes the clients and log files.
func (c *Cluster) Close() {
	c.closeClients()
	if c.Net != nil {
		c.Net.HealAll()
	}
	for _, n := range c.Nodes {
		n.Close()
	}
}
