// Topic names: Kafka's rules for a legal one.

package creek

import (
	"fmt"
)

// maxTopicNameLength is Kafka's limit: a partition directory name
// (topic-partition) must fit in 255 bytes.
const maxTopicNameLength = 249

// validateTopicName checks a topic name as Kafka does: 1 to 249 of
// [a-zA-Z0-9._-], and neither "." nor "..".
func validateTopicName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty topic name", ErrInvalidTopic)
	case name == "." || name == "..":
		return fmt.Errorf("%w: topic name %q", ErrInvalidTopic, name)
	case len(name) > maxTopicNameLength:
		return fmt.Errorf("%w: topic name is %d characters, at most %d", ErrInvalidTopic, len(name), maxTopicNameLength)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: topic name %q has %q; use [a-zA-Z0-9._-]", ErrInvalidTopic, name, c)
		}
	}
	return nil
}

// internalTopic reports whether name is one of creek's own topics, which
// clients may read but not create, delete or alter.
func internalTopic(name string) bool {
	return name == ConsumerOffsetsTopic || name == TransactionStateTopic
}

// ConsumerOffsetsTopic is the compacted topic that holds committed offsets,
// and the groups' membership beside them.
const ConsumerOffsetsTopic = "__consumer_offsets"

// TransactionStateTopic is the compacted topic that holds the transaction
// coordinators' state, in Kafka's record format.
const TransactionStateTopic = "__transaction_state"
