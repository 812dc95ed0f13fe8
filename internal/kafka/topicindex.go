package kafka

// TopicIndex groups a request's or a response's partitions by topic: it
// returns the index in list of topic's entry, appending one made by
// newTopic the first time topic is seen. seen remembers the indexes.
func TopicIndex[T any](list *[]T, seen map[string]int, topic string, newTopic func(topic string) T) int {
	i, ok := seen[topic]
	if !ok {
		i = len(*list)
		seen[topic] = i
		*list = append(*list, newTopic(topic))
	}
	return i
}
