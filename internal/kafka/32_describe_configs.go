package kafka

import (
	"context"
	"slices"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeConfigs, versions 0–4: topic configs, each marked as set on the
// topic or a default, and broker configs (resource type 4, any broker
// name: each node answers for itself): the node's settings under the
// names of Kafka's broker configs, read-only, as static broker configs.

func serveDescribeConfigs(_ context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.DescribeConfigsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	for _, res := range req.Resources {
		out := kmsg.NewDescribeConfigsResponseResource()
		out.ResourceType, out.ResourceName = res.ResourceType, res.ResourceName
		switch res.ResourceType {
		case kmsg.ConfigResourceTypeTopic:
			configs, explicit, err := s.broker.TopicConfigs(res.ResourceName)
			if err != nil {
				out.ErrorCode = s.broker.ErrorCode(err)
				out.ErrorMessage = errorMessage(err)
			}
			out.Configs = describeConfigs(configs, res.ConfigNames, func(c *kmsg.DescribeConfigsResponseResourceConfig) {
				c.IsDefault = !explicit[c.Name]
				c.Source = configSource(explicit[c.Name])
			})
		case kmsg.ConfigResourceTypeBroker:
			out.Configs = describeConfigs(s.broker.BrokerConfigs(), res.ConfigNames, func(c *kmsg.DescribeConfigsResponseResourceConfig) {
				c.ReadOnly = true
				c.Source = kmsg.ConfigSourceStaticBrokerConfig
			})
		}
		resp.Resources = append(resp.Resources, out)
	}
	return resp
}

// describeConfigs describes configs, those named only unless names is
// nil, in name order, each marked by mark.
func describeConfigs(configs map[string]string, names []string, mark func(*kmsg.DescribeConfigsResponseResourceConfig)) []kmsg.DescribeConfigsResponseResourceConfig {
	var out []kmsg.DescribeConfigsResponseResourceConfig
	for _, name := range sortedKeys(configs) {
		if names != nil && !slices.Contains(names, name) {
			continue
		}
		c := kmsg.NewDescribeConfigsResponseResourceConfig()
		value := configs[name]
		c.Name, c.Value = name, &value
		mark(&c)
		out = append(out, c)
	}
	return out
}

// configSource says where a topic config's value comes from.
func configSource(explicit bool) kmsg.ConfigSource {
	if explicit {
		return kmsg.ConfigSourceDynamicTopicConfig
	}
	return kmsg.ConfigSourceDefaultConfig
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
