// The cluster's SCRAM credentials (issue 17): what every node's SASL
// listeners authenticate SCRAM-SHA-256 and SCRAM-SHA-512 against, changed
// by SeedScram and AlterScram.

package controller

import (
	"encoding/json"
	"maps"

	"github.com/creekmq/creek/internal/sasl"
)

// Scram is the cluster's SCRAM credentials. Metadata shares it between
// clones and never changes it: a change replaces it whole (credentials
// change rarely; every ISR change clones the metadata).
type Scram struct {
	// Seeded says the cluster has had credentials given, by SeedScram or
	// AlterScram: a later SeedScram changes nothing, so a node's seed
	// users do not come back after an administrator deleted them.
	Seeded bool
	Creds  sasl.Credentials
}

// scramJSON is Scram in the metadata's JSON: the credentials in
// internal/sasl's encoding.
type scramJSON struct {
	Seeded bool   `json:"seeded"`
	Creds  []byte `json:"creds"`
}

// MarshalJSON encodes the credentials as internal/sasl does.
func (s *Scram) MarshalJSON() ([]byte, error) {
	return json.Marshal(scramJSON{Seeded: s.Seeded, Creds: s.Creds.Marshal()})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (s *Scram) UnmarshalJSON(b []byte) error {
	var j scramJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	creds, err := sasl.UnmarshalCredentials(j.Creds)
	if err != nil {
		return err
	}
	s.Seeded, s.Creds = j.Seeded, creds
	return nil
}

// Credentials returns the cluster's SCRAM credentials, which the caller
// must not change; empty for none.
func (m *Metadata) Credentials() sasl.Credentials {
	if m.Scram == nil {
		return sasl.Credentials{}
	}
	return m.Scram.Creds
}

// SeedScram gives a new cluster its first SCRAM users, as Kafka's storage
// tool adds them when it formats a cluster: it applies only while the
// metadata has never had credentials.
type SeedScram struct {
	Creds []byte `json:"creds"` // internal/sasl's encoding
}

// AlterScram sets and deletes SCRAM credentials, as
// AlterUserScramCredentials asks; a deletion of no credential changes
// nothing. It is rejected whole if the cluster would hold more than Max
// credentials.
type AlterScram struct {
	Set    []byte     `json:"set,omitempty"` // internal/sasl's encoding
	Delete []ScramKey `json:"delete,omitempty"`
	Max    int        `json:"max"`
}

// ScramKey names one credential: a user's for a mechanism.
type ScramKey struct {
	User      string `json:"user"`
	Mechanism int8   `json:"mechanism"`
}

// seedScram applies SeedScram.
func (m *Metadata) seedScram(c *SeedScram) error {
	if m.Scram != nil && m.Scram.Seeded {
		return nil // seeded before: the cluster's credentials are its own now
	}
	creds, err := sasl.UnmarshalCredentials(c.Creds)
	if err != nil {
		return rejected("seed SCRAM credentials: %v", err)
	}
	m.Scram = &Scram{Seeded: true, Creds: creds}
	return nil
}

// alterScram applies AlterScram to a copy of the credentials.
func (m *Metadata) alterScram(c *AlterScram) error {
	set, err := sasl.UnmarshalCredentials(c.Set)
	if err != nil {
		return rejected("alter SCRAM credentials: %v", err)
	}
	next := sasl.Credentials{}
	for user, byMechanism := range m.Credentials() {
		next[user] = maps.Clone(byMechanism)
	}
	for _, d := range c.Delete {
		next.Delete(d.User, sasl.ScramMechanism(d.Mechanism))
	}
	for user, byMechanism := range set {
		for _, cred := range byMechanism {
			next.Set(user, cred)
		}
	}
	if next.Count() > c.Max {
		return rejected("%d SCRAM credentials; at most %d", next.Count(), c.Max)
	}
	m.Scram = &Scram{Seeded: true, Creds: next}
	return nil
}
