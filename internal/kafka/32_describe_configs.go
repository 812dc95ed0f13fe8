package kafka

import (
	"context"
	"slices"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeConfigs, versions 0–4: topic configs, each marked as set on the
// topic or a default. Broker configs (resource type 4) are answered empty:
// creek's node settings are Go Config fields, not Kafka configs.

func serveDescribeConfigs(_ context.Context, s *Server, r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.DescribeConfigsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	for _, res := range req.Resources {
		out := kmsg.NewDescribeConfigsResponseResource()
		out.ResourceType, out.ResourceName = res.ResourceType, res.ResourceName
		if res.ResourceType == kmsg.ConfigResourceTypeTopic {
			configs, explicit, err := s.broker.TopicConfigs(res.ResourceName)
			if err != nil {
				out.ErrorCode = s.broker.ErrorCode(err)
				out.ErrorMessage = errorMessage(err)
			}
			for _, name := range sortedKeys(configs) {
				if res.ConfigNames != nil && !slices.Contains(res.ConfigNames, name) {
					continue
				}
				c := kmsg.NewDescribeConfigsResponseResourceConfig()
				value := configs[name]
				c.Name, c.Value = name, &value
				c.IsDefault = !explicit[name]
				c.Source = configSource(explicit[name])
				out.Configs = append(out.Configs, c)
			}
		}
		resp.Resources = append(resp.Resources, out)
	}
	return resp
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
