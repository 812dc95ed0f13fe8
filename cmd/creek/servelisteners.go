// creek serve's listeners by Kafka's settings: --listeners,
// --listener-protocols (listener.security.protocol.map) and
// --advertised-listeners.

package main

import (
	"fmt"
	"strings"

	"github.com/creekmq/creek"
)

// listenersFromFlags builds the node's listeners from Kafka's three
// settings: listeners, "NAME://host:port" separated by commas; protocols,
// "NAME:PROTOCOL" pairs, which a listener named after its protocol
// (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL) needs not be in; advertised,
// "NAME://host:port" for the listeners that advertise another address.
func listenersFromFlags(listeners, protocols, advertised string) ([]creek.Listener, error) {
	protocolOf := map[string]creek.SecurityProtocol{}
	for _, pair := range splitList(protocols) {
		name, protocol, ok := strings.Cut(pair, ":")
		if !ok || name == "" {
			return nil, fmt.Errorf("--listener-protocols: %q is not NAME:PROTOCOL", pair)
		}
		protocolOf[strings.ToUpper(name)] = creek.SecurityProtocol(strings.ToUpper(protocol))
	}
	advertisedAt := map[string]string{}
	for _, entry := range splitList(advertised) {
		name, addr, err := splitListener(entry)
		if err != nil {
			return nil, fmt.Errorf("--advertised-listeners: %w", err)
		}
		advertisedAt[name] = addr
	}
	var out []creek.Listener
	for _, entry := range splitList(listeners) {
		name, addr, err := splitListener(entry)
		if err != nil {
			return nil, fmt.Errorf("--listeners: %w", err)
		}
		protocol, ok := protocolOf[name]
		if !ok {
			protocol = creek.SecurityProtocol(name) // Open refuses a name that is no protocol
		}
		out = append(out, creek.Listener{Name: name, Addr: addr, AdvertisedAddr: advertisedAt[name], Protocol: protocol})
		delete(advertisedAt, name)
		delete(protocolOf, name)
	}
	for name := range advertisedAt {
		return nil, fmt.Errorf("--advertised-listeners: %s is not in --listeners", name)
	}
	for name := range protocolOf {
		return nil, fmt.Errorf("--listener-protocols: %s is not in --listeners", name)
	}
	return out, nil
}

// splitListener splits "NAME://host:port".
func splitListener(entry string) (name, addr string, err error) {
	name, addr, ok := strings.Cut(entry, "://")
	if !ok || name == "" || addr == "" {
		return "", "", fmt.Errorf("%q is not NAME://host:port", entry)
	}
	return strings.ToUpper(name), addr, nil
}

// splitList splits a comma-separated list, dropping empty entries.
func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
